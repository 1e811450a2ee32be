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
  unsigned threads = 1;          ///< --threads: port a on thread 0, port b on the last thread
  std::vector<int> daemon_cpus;  ///< CPU mask of the daemon; empty: unrestricted
  std::vector<std::string> extra_args;  ///< more daemon flags (the capture benchmark's --capture)
};

/// Starts the daemon with ports a and b listening at o.dir/a.sock and o.dir/b.sock, runs the
/// testpmd generator against them (drive_generator: mac forwarding, each port's --eth-peer the
/// other's MAC, so the bridge learns both and forwards unicast), and stops the daemon. Rates are
/// the generator's Rx-pps per port over the interval; CPU per packet is the daemon's CPU time over
/// the same interval (all threads, /proc/<pid>/task/*/schedstat) divided by the frames its ports
/// sent. Blocks for about start-up + warmup + seconds. Control thread.
NetRunResult run_testpmd_switch(const TestpmdLoadOptions& o, const SwitchRunOptions& s);

}  // namespace uvs::bench
