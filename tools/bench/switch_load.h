// SPDX-License-Identifier: MIT
// The switch benchmark's forwarding scenario: testpmd's virtio-user generator on two vhost-user
// ports of the uvswitch daemon (a child process), learned unicast through the bridge.
#pragma once

#include <string>
#include <vector>

#include "tools/bench/net_run_result.h"
#include "tools/bench/testpmd_load.h"

namespace uvs::bench {

/// The daemon side of one run.
struct SwitchRunOptions {
  std::string uvswitch;          ///< path of the uvswitch executable
  /// --threads. With one queue pair: port a on thread 0, port b on the last thread. With more:
  /// each port's queue pairs spread over threads 0..threads-1 alike (threads=0:1:...), so queue
  /// pair p of both ports is on the same thread; at most `queues` threads.
  unsigned threads = 1;
  unsigned queues = 1;           ///< queues= of both ports (the generator must ask as many)
  std::vector<int> daemon_cpus;  ///< CPU mask of the daemon; empty: unrestricted
  std::vector<int> thread_cpus;  ///< I/O thread k pinned to thread_cpus[k] (first `threads`)
  std::vector<std::string> extra_args;  ///< more daemon flags (the capture benchmark's --capture)
};

/// The --port specs `run_testpmd_switch` gives the daemon for ports a and b, sockets in `dir`.
std::vector<std::string> switch_port_specs(const std::string& dir, const SwitchRunOptions& s);

/// Starts the daemon with ports a and b listening at o.dir/a.sock and o.dir/b.sock, runs the
/// testpmd generator against them (drive_generator: mac forwarding, each port's --eth-peer the
/// other's MAC, so the bridge learns both and forwards unicast), and stops the daemon. Rates are
/// the generator's Rx-pps per port over the interval; CPU per packet is the daemon's CPU time over
/// the same interval (all threads, /proc/<pid>/task/*/schedstat) divided by the frames its ports
/// sent. Blocks for about start-up + warmup + seconds. Control thread.
NetRunResult run_testpmd_switch(const TestpmdLoadOptions& o, const SwitchRunOptions& s);

}  // namespace uvs::bench
