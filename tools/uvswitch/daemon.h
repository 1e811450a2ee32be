// SPDX-License-Identifier: MIT
// Daemon: the running uvswitch: I/O threads, the control loop and socket, signals, shutdown.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/daemon_config.h"
#include "eventloop/event_loop.h"
#include "eventloop/timer.h"
#include "switch/bridge.h"
#include "switch/port_threads.h"
#include "tools/uvswitch/capture_table.h"
#include "tools/uvswitch/command_table.h"
#include "tools/uvswitch/port_table.h"

namespace uvs::daemon {

/// Exit codes, as documented in `uvswitch --help`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;  ///< start-up or run-time failure
inline constexpr int kExitUsage = 2;    ///< bad flags, config file or key

/// The daemon process. Construct with a checked configuration, then run() on the main thread.
class Daemon {
 public:
  /// Keeps `cfg`; starts nothing until run().
  explicit Daemon(config::DaemonConfig cfg);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// Takes the control socket, starts the I/O threads, prints what runs, then serves the
  /// control loop on the calling thread until SIGINT/SIGTERM or the quit command, and shuts down
  /// cleanly (threads stopped and joined, socket removed). SIGINT and SIGTERM must already be
  /// blocked in every thread (main() does it before anything starts), so only the signalfd sees
  /// them. Returns the process exit code: kExitOk, or kExitRuntime with a message on stderr.
  int run();

  // For the command handlers (daemon_commands.cc); control loop thread only.
  const config::DaemonConfig& config() const { return cfg_; }
  ev::EventLoop& control_loop() { return *control_loop_; }
  bridge::PortThreads& port_threads() { return *threads_; }
  bridge::Bridge& bridge() { return *bridge_; }
  PortTable& ports() { return *ports_; }
  CaptureTable& captures() { return *captures_; }
  std::chrono::steady_clock::time_point started() const { return started_; }
  /// Makes run() return after the current loop iteration (replies already queued still go out).
  void request_shutdown(const std::string& why);

 private:
  bool start_switch(std::string* error);
  /// Backend program without a control socket: once every frontend on an inherited connected
  /// socket (--fd) has left, nothing can ever reconnect, so the daemon shuts down (exit 0).
  void check_fd_frontends();
  void stop_switch();
  void print_banner() const;

  config::DaemonConfig cfg_;
  std::unique_ptr<ev::EventLoop> control_loop_;
  // Destroyed in reverse: ports, then the bridge (while its loops still run), then the threads.
  std::unique_ptr<bridge::PortThreads> threads_;
  std::unique_ptr<bridge::Bridge> bridge_;
  std::unique_ptr<PortTable> ports_;
  std::unique_ptr<CaptureTable> captures_;  // before ports_ in teardown: captures detach first
  CommandTable commands_;
  std::chrono::steady_clock::time_point started_;
  std::string shutdown_reason_;
  std::vector<std::string> fd_conn_ports_;  // ports on an inherited connected socket
  std::unique_ptr<ev::Timer> fd_watch_;     // polls them (control loop) when there are any
};

/// Registers the built-in commands (version, threads, ports, port-add, port-del, stats, fdb,
/// fdb-flush, quit, query-commands) on `table`.
/// Handlers keep a reference to `daemon`.
void register_builtin_commands(CommandTable& table, Daemon& daemon);

}  // namespace uvs::daemon
