// SPDX-License-Identifier: MIT
// Daemon logging: level filter and single-write line output.
#include "tools/uvswitch/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

namespace uvs::daemon {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
}  // namespace

void set_log_level(LogLevel level) {
  g_level.store(static_cast<int>(level));
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) <= g_level.load();
}

void log(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) return;
  std::string line = "uvswitch: ";
  line += config::log_level_name(level);
  line += ": ";
  line += message;
  line += '\n';
  // One write per line keeps lines whole when several threads log; a short write to a
  // closed stderr is not worth handling.
  ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  (void)n;
}

}  // namespace uvs::daemon
