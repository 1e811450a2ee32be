// SPDX-License-Identifier: MIT
// Daemon command line: CLI11 flags plus the optional config file, merged into a DaemonConfig.
#pragma once

#include "config/daemon_config.h"

namespace uvs::daemon {

/// What main() should do after reading the command line.
struct CliOutcome {
  bool run = false;  ///< false: exit now with exit_code (help, version, or an error)
  int exit_code = 0;
  config::DaemonConfig config;  ///< valid when run is true
};

/// Parses uvswitch's flags, reads --config if given, merges (flags win) and checks everything.
/// Prints --help/--version to stdout (exit 0) and any error to stderr as "uvswitch: <message>"
/// naming the flag or file:line and key (exit 2). Starts nothing and creates no file.
CliOutcome parse_daemon_cli(int argc, char** argv, const config::Environment& env);

}  // namespace uvs::daemon
