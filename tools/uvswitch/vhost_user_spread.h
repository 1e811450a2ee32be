// SPDX-License-Identifier: MIT
// VhostUserSpread: a vhost-user port whose queue pairs run on several forwarding threads — the
// port on the first, a lane on each other — made, counted and torn down in the order the
// backend requires.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/port_spec.h"
#include "netback/vhost/vhost_user_net_lane.h"
#include "netback/vhost/vhost_user_net_port.h"
#include "switch/bridge.h"
#include "switch/port_threads.h"
#include "tools/uvswitch/command_table.h"

namespace uvs::daemon {

/// A vhost-user port spread over several threads (config threads=, resolved): pair p runs on
/// thread_ids[p % n]; thread_ids[0] also serves the socket. Every method runs on the control thread, which waits on
/// each loop in turn (run_in_loop_sync).
class VhostUserSpread {
 public:
  /// Makes the port on thread_ids[0] and its lanes on the others (thread_ids: the port's
  /// threads= list, or what threads=auto resolved to; each once), then starts it. Null with
  /// `*error` naming the port when it cannot start; nothing is left behind.
  static std::unique_ptr<VhostUserSpread> create(const config::PortSpec& spec,
                                                 std::vector<unsigned> thread_ids,
                                                 bridge::PortThreads& threads,
                                                 std::string* error);
  /// Stops the lanes on their threads before the port (and the guest memory it maps) goes,
  /// then destroys each lane on its own thread (VhostUserNetPort's lifecycle).
  ~VhostUserSpread();
  VhostUserSpread(const VhostUserSpread&) = delete;
  VhostUserSpread& operator=(const VhostUserSpread&) = delete;

  /// What Bridge::add_port attaches: the port on its thread, then each lane on its own.
  std::vector<bridge::PortLaneSpec> lanes() const;
  /// The port's state (the socket's and the rings').
  port::PortState state();
  /// Counters summed over the threads, each queue pair with the thread it runs on.
  Json details();

 private:
  VhostUserSpread(bridge::PortThreads& threads, std::vector<unsigned> thread_ids)
      : threads_(threads), thread_ids_(std::move(thread_ids)) {}

  bridge::PortThreads& threads_;
  std::vector<unsigned> thread_ids_;  // [lane]
  std::unique_ptr<netback::VhostUserNetPort> port_;                 // lane 0
  std::vector<std::unique_ptr<netback::VhostUserNetLane>> lanes_;  // [lane - 1]
};

}  // namespace uvs::daemon
