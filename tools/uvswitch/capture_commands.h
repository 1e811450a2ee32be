// SPDX-License-Identifier: MIT
// The capture control commands: capture-start, capture-stop and captures.
#pragma once

#include "tools/uvswitch/command_table.h"

namespace uvs::daemon {

class Daemon;

/// Registers capture-start {"spec": SPEC} (+ a passed fd for file=-), capture-stop
/// {"port": ID, "id": N} and captures on `table`. Handlers keep a reference to `daemon`.
void register_capture_commands(CommandTable& table, Daemon& daemon);

}  // namespace uvs::daemon
