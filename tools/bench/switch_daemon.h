// SPDX-License-Identifier: MIT
// SwitchDaemon: the uvswitch daemon as the benchmark's device under test — a child process with a
// control connection, its switch counters and its CPU time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tools/bench/child_process.h"
#include "tools/uvswitchctl/control_client.h"

namespace uvs::bench {

/// How to start the daemon.
struct SwitchDaemonOptions {
  std::string binary;               ///< path of the uvswitch executable
  std::string dir;                  ///< control socket and log go here (must exist)
  unsigned threads = 1;             ///< --threads
  std::vector<int> cpus;            ///< CPU mask of the whole process; empty: unrestricted
  std::vector<std::string> ports;   ///< --port specs
  int64_t poll_max_ns = -1;         ///< --poll-max-ns; < 0: the daemon's default
  std::vector<std::string> extra_args;  ///< appended as given (e.g. --capture SPEC)
};

/// One snapshot of what the benchmark reads from the daemon.
struct DaemonSample {
  int64_t wall_ns = 0;             ///< CLOCK_MONOTONIC when taken
  int64_t cpu_ns = 0;              ///< the daemon's CPU time so far (all threads)
  uint64_t out_frames = 0;         ///< frames every port accepted from the switch (forwarded)
  uint64_t dropped = 0;            ///< egress drops of every port plus ring drops of every thread
  uint64_t flooded = 0;            ///< frames flooded, all threads
  uint64_t ring_out = 0;           ///< frames handed to another thread's ring, all threads
  std::vector<uint64_t> thread_out;  ///< [t]: frames vhost-user queues on I/O thread t sent
  std::vector<uint64_t> queue_out;   ///< [q]: frames queue pair q of every vhost-user port sent
};

/// The daemon as a child process. Control thread only.
class SwitchDaemon {
 public:
  SwitchDaemon() = default;
  /// Asks the daemon to quit, then stops the process (SIGTERM, SIGKILL).
  ~SwitchDaemon();
  SwitchDaemon(const SwitchDaemon&) = delete;
  SwitchDaemon& operator=(const SwitchDaemon&) = delete;

  /// Starts the daemon and waits (up to `timeout_ms`) until its control socket answers. Returns
  /// an error message with the tail of its log, or empty on success.
  std::string start(const SwitchDaemonOptions& o, int timeout_ms);

  /// Calls control command `name`; on success returns true and the "return" member in `*ret`,
  /// else false with a message in `*error`.
  bool call(const std::string& name, ctl::Json* ret, std::string* error);

  /// Waits up to `timeout_ms` until every port with an id in `ids` reports state "up".
  bool wait_ports_up(const std::vector<std::string>& ids, int timeout_ms);

  /// Pins I/O thread k (the daemon names it "uvs-io<k>") to CPU cpus[k], for each k. Returns an
  /// error naming the first thread that is missing or that the kernel would not move; empty on
  /// success. The daemon's other threads keep the process mask.
  std::string pin_io_threads(const std::vector<int>& cpus);

  /// Counters and CPU time now (one `stats` call). False with `*error` if the call failed.
  bool sample(DaemonSample* s, std::string* error);

  /// CPU time of the daemon so far (all threads), ns.
  int64_t cpu_ns() const { return proc_.cpu_ns(); }
  bool running() { return proc_.running(); }
  /// The daemon's log (stdout and stderr).
  std::string log() const { return proc_.log(); }
  /// Sends `quit`, then stops the process. Returns the exit status (0: clean).
  int stop();

 private:
  ChildProcess proc_;
  std::unique_ptr<ctl::ControlClient> client_;  // a fresh one per connection attempt
  bool connected_ = false;
  std::string control_path_;
};

}  // namespace uvs::bench
