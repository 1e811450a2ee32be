// SPDX-License-Identifier: MIT
// The switch benchmark (`uvswitch-bench switch`): the uvswitch daemon forwarding learned unicast
// between two vhost-user ports under testpmd's generator, testpmd's vhost PMD beside it, and the
// daemon's idle CPU with two connected QEMU guests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace uvs::bench {

/// Command-line options of `uvswitch-bench switch`.
struct SwitchBenchOptions {
  bool json = false;
  int repeats = 3;              ///< runs per figure, interleaved; medians are reported
  double seconds = 2.0;         ///< measured interval of each run
  double warmup_seconds = 1.0;  ///< traffic before each measured interval
  std::vector<uint32_t> sizes = {64, 1518};  ///< frame sizes counting the FCS (carried: size - 4)
  std::vector<unsigned> threads = {1, 2};    ///< daemon --threads values measured
  /// Queue pairs per port, each measured: the generator's virtio-user ports and testpmd's vhost
  /// PMD get as many; the daemon's ports get queues=N, with N > 1 on one thread (thread=0) or,
  /// for --threads T > 1, spread over T threads (threads=0:...:T-1; T > N is skipped).
  std::vector<unsigned> queues = {1};
  std::vector<std::string> rings = {"split"};  ///< layouts the generator asks for: split, packed
  std::string testpmd = "dpdk-testpmd";      ///< name (looked up in PATH) or path
  std::string uvswitch;         ///< the daemon; default: ../uvswitch/uvswitch beside this binary
  std::string qemu = "qemu-system-x86_64";
  std::string guest_dir;        ///< guest image cache; default: ../../guest beside this binary
  int generator_cpu = 0;
  int backend_cpu = 1;          ///< the baseline's forwarding lcore
  std::vector<int> daemon_cpus;  ///< the daemon's CPU mask; default: {backend_cpu}
  std::vector<int> daemon_thread_cpus;  ///< I/O thread k pinned to [k]; empty: free in the mask
  int64_t poll_max_ns = -1;     ///< the daemon's --poll-max-ns; < 0: its default
  std::string huge_dir;         ///< hugetlbfs for the testpmd processes; empty: 4 KiB pages
  double idle_seconds = 10.0;   ///< idle measurement length; 0 skips the idle scenario
};

/// Runs the benchmark and prints its tables (or JSON) to stdout, progress to stderr. Returns a
/// process exit code: 0 when every scenario produced figures, 1 otherwise (2: cannot run).
int run_switch_bench(SwitchBenchOptions opts);

}  // namespace uvs::bench
