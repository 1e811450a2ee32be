// SPDX-License-Identifier: MIT
// What every benchmark records about the machine it ran on, and each run's scratch directory.
#pragma once

#include <string>

namespace uvs::bench {

/// The three load averages from /proc/loadavg ("1.63 2.01 3.67"): printed before and after a
/// run, because on a shared 2-core machine they say whether the figures can be trusted.
std::string load_average();
/// The CPU's model name from /proc/cpuinfo, or "unknown".
std::string cpu_model();

/// Makes the benchmark's scratch directory, /tmp/uvs-bench-WHAT-PID.XXXXXX, for the RunDirs of
/// its runs; "" (after saying why on stderr) when it cannot.
std::string make_base_dir(const std::string& what);

/// A run's own directory (BASE/run-N) for its sockets and logs, removed with everything in it
/// when it goes out of scope, so a failed run cannot leave sockets for the next one to trip on.
class RunDir {
 public:
  RunDir(const std::string& base, int n);
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace uvs::bench
