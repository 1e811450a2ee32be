// SPDX-License-Identifier: MIT
// Netback's log lines: control-path events and a rate limiter for data-path ones.
#pragma once

#include <cstdint>
#include <string_view>

namespace uvs::netback {

/// Writes one line "uvswitch: <port>: <message>" to stderr. Control path only (formats, may
/// block on a full stderr). Any thread; lines from different threads do not interleave mid-line.
void log_port(std::string_view port, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/// Allows at most `burst` lines per `interval_ns`, then counts the suppressed ones. One object per
/// call site and port; loop thread only; allocation-free.
class LogRateLimit {
 public:
  explicit LogRateLimit(int64_t interval_ns = 1'000'000'000, uint32_t burst = 5) noexcept
      : interval_ns_(interval_ns), burst_(burst) {}
  /// True if a line may be written now. `suppressed` receives how many were dropped since the
  /// last allowed line (to mention in it).
  bool allow(uint64_t* suppressed) noexcept;

 private:
  int64_t interval_ns_;
  uint32_t burst_;
  int64_t window_start_ = 0;
  uint32_t in_window_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace uvs::netback
