// SPDX-License-Identifier: MIT
// ChildProcess: one non-interactive child (the uvswitch daemon, a QEMU guest) run by a benchmark —
// spawn with a CPU mask, CPU time, stop, and the guarantee that it never outlives the benchmark.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace uvs::bench {

/// A child process with stdin from /dev/null and stdout+stderr to a log file. It dies with us
/// (PR_SET_PDEATHSIG, and the interrupt guard's registry) and with the object (SIGTERM, then
/// SIGKILL, in the destructor). Control thread only: fork from the thread that stays alive for the
/// whole run, since the death signal follows the forking thread.
class ChildProcess {
 public:
  ChildProcess() = default;
  /// Stops the child if it still runs (stop(2000)).
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Spawns argv[0] (a path) with `argv`, restricted to `cpus` when not empty. Returns an error
  /// message (empty on success) when the log file or fork fails; an exec failure shows up as an
  /// early exit with status 127.
  std::string start(const std::vector<std::string>& argv, const std::string& log_path,
                    const std::vector<int>& cpus = {});

  /// SIGTERM, up to `grace_ms` for the child to exit, then SIGKILL; reaps it. Returns its exit
  /// status, 128 + signal if a signal ended it, or -1 if it had to be killed or never ran.
  int stop(int grace_ms);

  /// Whether the child runs (not yet reaped).
  bool running();
  pid_t pid() const { return pid_; }

  /// CPU time (user + system) of all the child's threads so far, in ns, from
  /// /proc/<pid>/task/*/schedstat (exact; /proc/<pid>/stat counts 10 ms ticks, too coarse for an
  /// idle process). Threads that already exited are not counted. 0 once the child is gone.
  int64_t cpu_ns() const;

  /// The log so far.
  std::string log() const;
  const std::string& log_path() const { return log_path_; }

 private:
  void reaped(int status);

  pid_t pid_ = -1;
  int status_ = -1;
  std::string log_path_;
};

/// The last `n` lines of `text`, each indented, for error messages.
std::string tail_lines(const std::string& text, int n);

/// CPU time of every thread of `pid` so far, in ns (from /proc/PID/task/*/schedstat, which,
/// unlike /proc/PID/stat's 10 ms ticks, is fine enough for an idle daemon); 0 if it is gone.
int64_t process_cpu_ns(pid_t pid);
/// The whole content of `path`, empty when it cannot be read.
std::string read_whole_file(const std::string& path);

}  // namespace uvs::bench
