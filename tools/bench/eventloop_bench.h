// SPDX-License-Identifier: MIT
// The event-loop benchmark: wake-up latency, dispatch cost versus fd count, idle CPU.
#pragma once

namespace uvs::bench {

struct EventLoopBenchOptions {
  bool json = false;
  int wake_samples = 20000;
  int repeats = 3;  ///< each figure is the median of this many runs
  double idle_seconds = 2.0;
};

/// Runs the benchmark and prints its table (or JSON) to stdout. Returns a process exit code.
int run_eventloop_bench(const EventLoopBenchOptions& opts);

}  // namespace uvs::bench
