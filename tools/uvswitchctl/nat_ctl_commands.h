// SPDX-License-Identifier: MIT
// uvswitchctl's NAT subcommands (hostfwd-add/del/list) and the NAT block of `stats`.
#pragma once

#include <ostream>
#include <vector>

#include "tools/uvswitchctl/ctl_commands.h"

namespace uvs::ctl {

/// Appends hostfwd-add ID RULE, hostfwd-del ID RULE and hostfwd-list ID.
void add_nat_commands(std::vector<CtlCommand>& cmds);

/// Prints one row per NAT port in a `stats` reply's "ports" (connections, bytes, leases,
/// errors); prints nothing when there is no NAT port.
void render_nat_stats(const Json& ports, std::ostream& out);

}  // namespace uvs::ctl
