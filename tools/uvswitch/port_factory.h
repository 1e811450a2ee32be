// SPDX-License-Identifier: MIT
// Port factory: the daemon side of the port type registry. Each type's entry starts a port from
// a checked config::PortSpec and reports it, so the daemon never needs the port's concrete type.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "config/daemon_config.h"
#include "config/port_spec.h"
#include "config/port_types.h"
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

/// One port type's daemon side, listed once in port_factory.cc.
struct PortFactory {
  const config::PortTypeInfo* type;  ///< the config registry entry this factory serves
  /// Creates and starts the port on `loop` (its thread). Null port with `*error` naming the port
  /// and the cause when it cannot start.
  RunningPort (*make)(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error);
  /// Process-wide start-up the type needs before any I/O thread exists (DPDK's EAL), given the
  /// whole configuration; null for none. False with `*error` stops the daemon (exit 1).
  bool (*start_process)(const config::DaemonConfig& cfg, std::string* error) = nullptr;
  /// What the start-up banner says about a port of this type (how to attach a guest, how to
  /// forward a host port): whole lines, each indented by two spaces; null for nothing.
  /// `control_path` is empty without a control socket.
  std::string (*banner)(const config::PortSpec& spec, const std::string& control_path) = nullptr;
  /// Whether the port serves one peer that cannot come back once it leaves (an inherited,
  /// connected socket), so that a daemon without a control socket ends with it. Asked before
  /// make(), which takes the fd over; null means never.
  bool (*single_peer)(const config::PortSpec& spec) = nullptr;
};

/// Every factory, one per config port type.
std::span<const PortFactory* const> port_factories();

/// The factory of config type `type`; null when kFactories lacks it (make_port() then refuses
/// the port by name).
const PortFactory* find_port_factory(const config::PortTypeInfo* type);

/// Creates and starts the port `spec` describes, on `loop`, through its type's entry. Must run
/// on `loop`'s thread. Returns a null port with `*error` set on failure.
RunningPort make_port(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error);

}  // namespace uvs::daemon
