// SPDX-License-Identifier: MIT
// The capture benchmark (`uvswitch-bench capture`): the daemon's forwarding rate with no capture,
// a capture on one port, and a capture with a BPF filter, measured in one interleaved run.
#pragma once

#include <string>
#include <vector>

namespace uvs::bench {

/// Command-line options of `uvswitch-bench capture`.
struct CaptureBenchOptions {
  bool json = false;
  int repeats = 3;              ///< runs per configuration, interleaved; medians are reported
  double seconds = 2.0;         ///< measured interval of each run
  double warmup_seconds = 1.0;  ///< traffic before each measured interval
  unsigned size = 64;           ///< frame size, FCS included
  std::string testpmd = "dpdk-testpmd";
  std::string uvswitch;         ///< default: ../uvswitch/uvswitch beside this binary
  int generator_cpu = 0;
  int backend_cpu = 1;          ///< the daemon's CPU
};

/// Runs the benchmark, prints a table (or JSON) to stdout and progress to stderr. Returns 0
/// when every configuration produced figures, 1 otherwise, 2 when it cannot run.
int run_capture_bench(CaptureBenchOptions opts);

}  // namespace uvs::bench
