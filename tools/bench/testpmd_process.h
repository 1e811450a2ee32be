// SPDX-License-Identifier: MIT
// TestpmdProcess: one interactive dpdk-testpmd child — spawn, commands, CPU time, cleanup — and
// the parser for its `show port stats` output.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace uvs::bench {

/// An interactive dpdk-testpmd (`-i`) run as a child process: commands go to its stdin, its
/// stdout and stderr to a log file. The child dies with us (PR_SET_PDEATHSIG) and with the
/// object (SIGKILL in the destructor), and its /var/run/dpdk/<file-prefix> directory (and its
/// page files, when its EAL arguments name a --huge-dir) is removed.
/// Control thread only: fork the child from the thread that stays alive for the whole run, since
/// the death signal follows the forking thread.
class TestpmdProcess {
 public:
  TestpmdProcess() = default;
  /// Kills the child if it still runs, reaps it and removes its runtime directory and page files.
  ~TestpmdProcess();
  TestpmdProcess(const TestpmdProcess&) = delete;
  TestpmdProcess& operator=(const TestpmdProcess&) = delete;

  /// Spawns `binary` with `--file-prefix=<file_prefix>` added after `eal_args`, then `--`, then
  /// `app_args`. Returns an error message (empty on success) when the pipe, log file or fork
  /// fails; an exec failure shows up as an early exit (exit status 127).
  std::string start(const std::string& binary, const std::string& file_prefix,
                    const std::vector<std::string>& eal_args,
                    const std::vector<std::string>& app_args, const std::string& log_path);

  /// Writes one command line to the child's stdin. False if the child is gone.
  bool send(const std::string& line);

  /// Waits until the log holds `needle` at least `count` times; false on timeout, on the child
  /// exiting first, or on an interrupt (see interrupted()).
  bool wait_for(const std::string& needle, int timeout_ms, int count = 1);

  /// Closes stdin (testpmd's prompt quits on EOF), waits up to `timeout_ms` for the child to
  /// exit, then SIGKILLs it. Returns the exit status, or -1 if it had to be killed.
  int finish(int timeout_ms);

  /// CPU time (user + system, all threads) the child has used, from /proc/<pid>/task/*/schedstat.
  /// 0 once it has exited.
  int64_t cpu_ns() const;

  /// The whole log so far.
  std::string log() const;
  /// The log file's path.
  const std::string& log_path() const { return log_path_; }
  /// Whether the child runs (not yet reaped).
  bool running();

 private:
  void kill_and_reap();

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::string prefix_;
  std::string huge_dir_;  // the --huge-dir among the EAL arguments, if any
  std::string log_path_;
};

/// Absolute path of an executable testpmd: `hint` itself if it contains a '/', else `hint` looked
/// up in $PATH. Empty when there is none.
std::string find_testpmd(const std::string& hint);

/// One port's block of testpmd's `show port stats all` output.
struct PortStatsBlock {
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  double rx_pps = 0;  ///< "Throughput (since last show)": over the interval since the last show
  double tx_pps = 0;
};

/// Every `show port stats` block in testpmd's output, per port (index = port id, ports
/// 0..ports-1), in output order. Lines that are not part of such a block are ignored.
std::vector<std::vector<PortStatsBlock>> parse_port_stats(const std::string& log, int ports);

}  // namespace uvs::bench
