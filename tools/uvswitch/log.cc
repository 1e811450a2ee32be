// SPDX-License-Identifier: MIT
// Daemon logging: the config's levels mapped onto the one process-wide gate (eventloop/log.h).
#include "tools/uvswitch/log.h"

#include "eventloop/log.h"

namespace uvs::daemon {
namespace {
// config::LogLevel and ev::LogLevel list the same levels in the same order.
ev::LogLevel to_ev(LogLevel level) { return static_cast<ev::LogLevel>(static_cast<int>(level)); }
}  // namespace

void set_log_level(LogLevel level) { ev::set_log_level(to_ev(level)); }

bool log_enabled(LogLevel level) { return ev::log_enabled(to_ev(level)); }

void log(LogLevel level, std::string_view message) { ev::log_line(to_ev(level), message); }

}  // namespace uvs::daemon
