// SPDX-License-Identifier: MIT
// Netback's log lines: control-path events and a rate limiter for data-path ones.
#pragma once

#include <cstdint>
#include <string_view>

#include "eventloop/log.h"

namespace uvs::netback {

using ev::LogLevel;

/// Writes one line "uvswitch: <level>: <port>: <message>" to stderr when `level` is enabled
/// (--log-level). Control path, or behind a LogRateLimit (formats, may block on a full
/// stderr). Any thread; lines from different threads do not interleave mid-line.
void log_port(LogLevel level, std::string_view port, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

using ev::LogRateLimit;

}  // namespace uvs::netback
