// SPDX-License-Identifier: MIT
// The NAT's daemon side: its registry entry (kNatFactory: config → NatPortOptions, stats JSON,
// hostfwd commands) and the hostfwd-add/del/list control commands.
#pragma once

#include <memory>
#include <string>

#include "config/nat_port_spec.h"
#include "config/port_spec.h"
#include "eventloop/event_loop.h"
#include "port/port.h"
#include "slirp-glue/nat_options.h"
#include "tools/uvswitch/command_table.h"
#include "tools/uvswitch/port_factory.h"

namespace uvs::daemon {

class Daemon;

/// A config hostfwd rule as the NAT takes it. No host address means 127.0.0.1: forwards are
/// reachable from this host only unless the rule names another address (e.g. 0.0.0.0).
slirpglue::NatForward nat_forward_from(const config::HostFwd& f);

/// Registers hostfwd-add {"id","rule"}, hostfwd-del {"id","rule"} and hostfwd-list {"id"}.
/// A failed add or del replies with an error and changes nothing.
void register_nat_commands(CommandTable& table, Daemon& daemon);

}  // namespace uvs::daemon
