// SPDX-License-Identifier: MIT
// The vhost-user data-path benchmark (`uvswitch-bench netback`): our backend under the in-repo
// generator and under testpmd, with testpmd's own vhost PMD measured beside it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace uvs::bench {

/// Command-line options of `uvswitch-bench netback`.
struct NetbackBenchOptions {
  bool json = false;
  int repeats = 3;              ///< runs per figure, interleaved; medians are reported
  double seconds = 2.0;         ///< measured interval of each run
  double warmup_seconds = 1.0;  ///< traffic before each measured interval
  std::vector<uint32_t> sizes = {64, 1518};  ///< frame sizes counting the FCS (carried: size - 4)
  std::string testpmd = "dpdk-testpmd";      ///< name (looked up in PATH) or path
  bool skip_testpmd = false;    ///< only the in-repo generator
  bool skip_frontend = false;   ///< only the testpmd scenarios
  int generator_cpu = 0;
  int backend_cpu = 1;
  int64_t poll_max_ns = -1;     ///< our loop's busy-poll ceiling; < 0: the loop's default
  int ping_samples = 20000;     ///< one-frame-in-flight latency samples per size and run
};

/// Runs the benchmark and prints its tables (or JSON) to stdout, progress to stderr. Returns a
/// process exit code: 0 when every scenario that ran produced figures, 1 otherwise.
int run_netback_bench(const NetbackBenchOptions& opts);

}  // namespace uvs::bench
