// SPDX-License-Identifier: MIT
// stderr log lines for netback ports and the data-path rate limiter.
#include "netback/common/netback_log.h"

#include <cstdarg>
#include <cstdio>


namespace uvs::netback {

void log_port(LogLevel level, std::string_view port, const char* fmt, ...) {
  if (!ev::log_enabled(level)) return;
  char text[512];
  int n = std::snprintf(text, sizeof text, "%.*s: ", static_cast<int>(port.size()), port.data());
  if (n < 0) return;
  size_t used = static_cast<size_t>(n) < sizeof text ? static_cast<size_t>(n) : sizeof text - 1;
  va_list ap;
  va_start(ap, fmt);
  int m = std::vsnprintf(text + used, sizeof text - used, fmt, ap);
  va_end(ap);
  if (m > 0) used += static_cast<size_t>(m) < sizeof text - used ? static_cast<size_t>(m)
                                                                  : sizeof text - used - 1;
  ev::log_line(level, std::string_view(text, used));
}
}  // namespace uvs::netback
