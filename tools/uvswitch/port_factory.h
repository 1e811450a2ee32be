// SPDX-License-Identifier: MIT
// Port factory: the daemon side of the port type registry. Each type's entry starts a port from
// a checked config::PortSpec and reports it, so the daemon never needs the port's concrete type.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "config/port_spec.h"
#include "eventloop/event_loop.h"
#include "port/port.h"
#include "tools/uvswitch/command_table.h"

namespace uvs::daemon {

/// A started port and its type's view of it. The functions hold the port's concrete type (they
/// were made with it), and run on the port's loop thread.
struct RunningPort {
  std::unique_ptr<port::Port> port;
  /// The type's own counters and state (`stats` / `ports` "backend", and so the metrics).
  std::function<Json()> details;
  /// A command only this type serves (the NAT's hostfwd-add ...), with its arguments; may
  /// update the spec to match. Null when the type has none.
  std::function<CommandReply(std::string_view command, const Json& args, config::PortSpec& spec)>
      command;
};

/// One port type's daemon side, at its PortType's index in port_factories().
struct PortFactory {
  config::PortType type;
  /// Creates and starts the port on `loop` (its thread). Null port with `*error` naming the port
  /// and the cause when it cannot start.
  RunningPort (*make)(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error);
};

/// Creates and starts the port `spec` describes, on `loop`, through its type's entry. Must run
/// on `loop`'s thread. Returns a null port with `*error` set on failure.
RunningPort make_port(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error);

// The entries, each defined beside its type's factory.
extern const PortFactory kVhostUserFactory;
extern const PortFactory kTapFactory;
extern const PortFactory kStreamFactory;
extern const PortFactory kDgramFactory;
extern const PortFactory kNatFactory;
extern const PortFactory kVxlanFactory;
extern const PortFactory kDpdkFactory;

}  // namespace uvs::daemon
