// SPDX-License-Identifier: MIT
// Log level names and environment detection for DaemonConfig defaults.
#include "config/daemon_config.h"

#include <unistd.h>

#include "config/runtime_paths.h"

namespace uvs::config {

const char* log_level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kTrace:
      return "trace";
  }
  return "info";
}

Result<LogLevel> parse_log_level(std::string_view text) {
  for (LogLevel l :
       {LogLevel::kError, LogLevel::kWarn, LogLevel::kInfo, LogLevel::kDebug, LogLevel::kTrace}) {
    if (text == log_level_name(l)) return l;
  }
  return Error::make(
      ConfigError::kBadValue,
      "'" + std::string(text) + "' is not a log level (error, warn, info, debug, trace)");
}

Environment Environment::detect() {
  Environment env;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  env.online_cpus = n > 0 ? static_cast<unsigned>(n) : 1;
  env.runtime_dir = default_runtime_dir();
  return env;
}

}  // namespace uvs::config
