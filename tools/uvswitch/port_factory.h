// SPDX-License-Identifier: MIT
// Port factory: turns a checked config::PortSpec into a running netback port on one loop.
#pragma once

#include <memory>
#include <string>

#include "config/port_spec.h"
#include "eventloop/event_loop.h"
#include "port/port.h"
#include "tools/uvswitch/command_table.h"

namespace uvs::daemon {

/// Creates and starts the port `spec` describes, on `loop`. Must run on `loop`'s thread (the
/// port belongs to it). Returns null with `*error` naming the port and the cause when the type
/// is not available yet or the port cannot start (e.g. its socket path cannot be bound).
std::unique_ptr<port::Port> make_port(const config::PortSpec& spec, ev::EventLoop& loop,
                                      std::string* error);

/// The port type's own counters (connections, queues, protocol errors ...). Loop thread only.
Json backend_stats_json(const config::PortSpec& spec, const port::Port& port);

}  // namespace uvs::daemon
