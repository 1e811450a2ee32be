// SPDX-License-Identifier: MIT
// PortTable: the daemon's running ports: creation on their loop, attachment to the bridge, removal.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/port_spec.h"
#include "port/port.h"
#include "switch/bridge.h"
#include "switch/port_threads.h"
#include "tools/uvswitch/command_table.h"
#include "tools/uvswitch/port_factory.h"
#include "tools/uvswitch/vhost_user_spread.h"

namespace uvs::daemon {

/// Ports by id. Every method runs on the control thread, which is never a forwarding loop: each
/// call waits on the port's own loop (run_in_loop_sync), so nothing touches a port off its thread.
class PortTable {
 public:
  PortTable(bridge::PortThreads& threads, bridge::Bridge& bridge);
  ~PortTable();  ///< removes every port (the loops must still run)
  PortTable(const PortTable&) = delete;
  PortTable& operator=(const PortTable&) = delete;

  /// Creates, starts and attaches the port. On failure nothing is left behind and `*error`
  /// names the port and the cause (duplicate id, bad thread, socket that cannot be bound ...).
  bool add(const config::PortSpec& spec, std::string* error);
  /// Detaches and destroys the port; false with `*error` if there is no such id.
  bool remove(const std::string& id, std::string* error);
  void remove_all();

  /// Each port's spec, thread, state and counters (switch side and the port type's own).
  Json list();
  bool contains(const std::string& id) const;
  /// The spec a running port was created from; null for an unknown id.
  const config::PortSpec* spec(const std::string& id) const;
  /// The port's type's own details (as in list()'s "backend"), read on its loop thread. False
  /// with `*error` for an unknown id.
  bool details(const std::string& id, Json* out, std::string* error);
  /// Runs a command of the port's type (RunningPort::command) on the port's loop thread and
  /// waits for its reply; it may update the spec to match. False with `*error` for an unknown
  /// id or a type without commands.
  bool command(const std::string& id, std::string_view command, const Json& args,
               CommandReply* reply, std::string* error);

 private:
  struct Entry {
    config::PortSpec spec;
    unsigned thread = 0;           // the port's own thread (its socket's, for vhost-user)
    std::vector<unsigned> threads;  // every thread it runs on, `thread` first
    bridge::PortIndex index = 0;
    RunningPort running;  // the port, and its type's view of it (empty when spread)
    std::unique_ptr<VhostUserSpread> spread;  // a vhost-user port on several threads
  };
  void destroy_on_loop(Entry& e);
  /// The type's own details; a vhost-user port's queues each with the thread it runs on.
  Json backend_json(Entry& e);

  bridge::PortThreads& threads_;
  bridge::Bridge& bridge_;
  std::vector<Entry> ports_;
};

}  // namespace uvs::daemon
