// SPDX-License-Identifier: MIT
// The process-wide log level and the one stderr line writer that every module's lines go
// through, so --log-level governs all of them.
#pragma once

#include <cstdint>
#include <string_view>

namespace uvs::ev {

/// Most to least severe; a level prints when it is at or above the configured one.
enum class LogLevel { kError, kWarn, kInfo, kDebug, kTrace };

/// Sets the most verbose level that is printed (default kInfo). Any thread.
void set_log_level(LogLevel level) noexcept;
/// Whether `level` is printed now. Any thread; one relaxed load.
bool log_enabled(LogLevel level) noexcept;
/// "error", "warn", "info", "debug", "trace".
const char* log_level_name(LogLevel level) noexcept;
/// Writes "uvswitch: <level>: <text>\n" to stderr when `level` is enabled, in one write(2) so
/// that lines from different threads never interleave. Any thread; may block on a full stderr,
/// so data paths call it only behind a rate limit.
void log_line(LogLevel level, std::string_view text) noexcept;
/// log_line() of a printf-formatted text, cut at about 500 bytes. Formats nothing when `level`
/// is disabled.
void log_fmt(LogLevel level, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

/// Allows at most `burst` lines per `interval_ns`, then counts the suppressed ones. One object per
/// call site and port; loop thread only; allocation-free. Every message a peer or guest can
/// trigger at will goes through one.
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

}  // namespace uvs::ev
