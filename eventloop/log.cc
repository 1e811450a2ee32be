// SPDX-License-Identifier: MIT
// The global log level and single-write stderr lines.
#include "eventloop/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "eventloop/clock.h"

namespace uvs::ev {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
}  // namespace

void set_log_level(LogLevel level) noexcept {
  g_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

bool log_enabled(LogLevel level) noexcept {
  return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

const char* log_level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kError: return "error";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kInfo: return "info";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kTrace: return "trace";
  }
  return "info";
}

void log_line(LogLevel level, std::string_view text) noexcept {
  if (!log_enabled(level)) return;
  char line[1024];
  const int n = std::snprintf(line, sizeof line, "uvswitch: %s: %.*s\n", log_level_name(level),
                              static_cast<int>(text.size() > 900 ? 900 : text.size()),
                              text.data());
  if (n <= 0) return;
  ssize_t w = ::write(STDERR_FILENO, line, static_cast<size_t>(n) < sizeof line ? size_t(n)
                                                                                  : sizeof line - 1);
  (void)w;
}

void log_fmt(LogLevel level, const char* fmt, ...) noexcept {
  if (!log_enabled(level)) return;
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  const int m = std::vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  if (m < 0) return;
  log_line(level, std::string_view(text, static_cast<size_t>(m) < sizeof text ? size_t(m)
                                                                              : sizeof text - 1));
}

bool LogRateLimit::allow(uint64_t* suppressed) noexcept {
  int64_t now = ev::now_ns();
  if (now - window_start_ >= interval_ns_) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ < burst_) {
    ++in_window_;
    if (suppressed) *suppressed = suppressed_;
    suppressed_ = 0;
    return true;
  }
  ++suppressed_;
  return false;
}

}  // namespace uvs::ev
