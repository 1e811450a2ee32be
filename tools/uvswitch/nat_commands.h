// SPDX-License-Identifier: MIT
// The NAT's daemon side: config → NatPortOptions, its stats JSON, and hostfwd-add/del/list.
#pragma once

#include <memory>
#include <string>

#include "config/port_spec.h"
#include "eventloop/event_loop.h"
#include "port/port.h"
#include "slirp-glue/nat_options.h"
#include "tools/uvswitch/command_table.h"

namespace uvs::daemon {

class Daemon;

/// A config hostfwd rule as the NAT takes it. No host address means 127.0.0.1: forwards are
/// reachable from this host only unless the rule names another address (e.g. 0.0.0.0).
slirpglue::NatForward nat_forward_from(const config::HostFwd& f);

/// Creates and starts a NAT port on `loop` (its thread). Null with `*error` naming the port and
/// the key at fault (a hostfwd that overlaps or cannot bind, dns-server) on failure.
std::unique_ptr<port::Port> make_nat_port(const config::PortSpec& spec,
                                          const config::NatPortSpec& nat, ev::EventLoop& loop,
                                          std::string* error);

/// The NAT's counters for `stats` / `ports`. Loop thread only.
Json nat_stats_json(const port::Port& port);

/// Registers hostfwd-add {"id","rule"}, hostfwd-del {"id","rule"} and hostfwd-list {"id"}.
/// A failed add or del replies with an error and changes nothing.
void register_nat_commands(CommandTable& table, Daemon& daemon);

}  // namespace uvs::daemon
