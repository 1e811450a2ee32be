// SPDX-License-Identifier: MIT
// stderr log lines for netback ports and the data-path rate limiter.
#include "netback/netback_log.h"

#include <unistd.h>

#include <cstdarg>
#include <cstdio>

#include "eventloop/clock.h"

namespace uvs::netback {

void log_port(std::string_view port, const char* fmt, ...) {
  char line[512];
  int n = std::snprintf(line, sizeof line, "uvswitch: %.*s: ", static_cast<int>(port.size()),
                        port.data());
  if (n < 0) return;
  size_t used = static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1;
  va_list ap;
  va_start(ap, fmt);
  int m = std::vsnprintf(line + used, sizeof line - used, fmt, ap);
  va_end(ap);
  if (m > 0) used += static_cast<size_t>(m) < sizeof line - used ? static_cast<size_t>(m)
                                                                  : sizeof line - used - 1;
  if (used >= sizeof line - 1) used = sizeof line - 2;
  line[used++] = '\n';
  // One write() per line so concurrent port threads do not interleave within a line.
  ssize_t w = ::write(STDERR_FILENO, line, used);
  (void)w;
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

}  // namespace uvs::netback
