// SPDX-License-Identifier: MIT
// The vhost-user port type in the daemon: its options from a checked spec and its counters as
// JSON, shared by the one-thread factory entry and the port spread over several threads.
#pragma once

#include <string>

#include "config/port_spec.h"
#include "netback/vhost/vhost_user_net_port.h"
#include "tools/uvswitch/port_factory.h"

namespace uvs::daemon {

/// The backend options `spec` (a vhost-user spec) asks for, with one lane (VhostUserSpread
/// sets the count of a port on several threads). False with `*error` naming the port when an inherited fd is no longer a socket.
bool vhost_user_options(const config::PortSpec& spec, netback::VhostUserNetOptions* out,
                        std::string* error);

/// The port's counters `s` (its stats(), plus its other lanes' when spread) and negotiated
/// offloads, as `ports` / `stats` show them. The port's loop thread.
Json vhost_user_json(const netback::VhostUserNetPort& vu, const netback::VhostUserNetStats& s);

}  // namespace uvs::daemon
