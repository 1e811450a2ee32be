// SPDX-License-Identifier: MIT
// The live-migration benchmark (`uvswitch-bench dirty-log`): what dirty logging costs the
// vhost-user data path while a migration is in progress.
#pragma once

#include <cstdint>
#include <vector>

namespace uvs::bench {

/// Command-line options of `uvswitch-bench dirty-log`.
struct DirtyLogBenchOptions {
  bool json = false;
  int repeats = 5;              ///< runs per figure, interleaved; medians are reported
  double seconds = 2.0;         ///< measured interval of each run
  double warmup_seconds = 0.5;  ///< traffic before each measured interval
  std::vector<uint32_t> sizes = {64, 1518};  ///< frame sizes, FCS included (as netback's)
  int generator_cpu = 0;
  int backend_cpu = 1;
};

/// For each size, interleaves runs with logging off and on (both in-repo frontends logging as
/// QEMU does during a migration) through a cross-wired backend pair pinned to backend_cpu, and
/// prints Mpps, the backend's ns per packet and the on/off ratio. Returns 0 when every run
/// produced figures.
int run_dirty_log_bench(const DirtyLogBenchOptions& opts);

}  // namespace uvs::bench
