// SPDX-License-Identifier: MIT
// Control-path logging for the daemon: leveled, timestamped lines on stderr.
#pragma once

#include <string_view>

#include "config/daemon_config.h"

namespace uvs::daemon {

using LogLevel = config::LogLevel;

/// Sets the most verbose level that is printed. Call once at start-up, before threads.
void set_log_level(LogLevel level);
/// Whether `level` is printed.
bool log_enabled(LogLevel level);
/// Prints "uvswitch: <level>: <message>" to stderr when `level` is enabled. Any thread; one
/// write(2) per line so lines from several threads do not interleave. Control path only.
void log(LogLevel level, std::string_view message);

}  // namespace uvs::daemon
