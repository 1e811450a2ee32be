// SPDX-License-Identifier: MIT
// uvswitch entry point: read the configuration, block the signals the daemon handles, run it.
#include <csignal>
#include <cstdio>

#include "config/daemon_config.h"
#include "tools/uvswitch/daemon.h"
#include "tools/uvswitch/daemon_cli.h"
#include "tools/uvswitch/log.h"

int main(int argc, char** argv) {
  using namespace uvs;
  // Everything that can be wrong with the input is found here, before anything starts.
  daemon::CliOutcome cli = daemon::parse_daemon_cli(argc, argv, config::Environment::detect());
  if (!cli.run) return cli.exit_code;
  daemon::set_log_level(cli.config.log_level);

  // Block SIGINT/SIGTERM before any thread exists, so every thread inherits the mask and the
  // control loop's signalfd is the only place they are delivered. Writes to a vanished control
  // client use MSG_NOSIGNAL; ignoring SIGPIPE covers anything else.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  daemon::Daemon d(std::move(cli.config));
  return d.run();
}
