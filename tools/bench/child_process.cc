// SPDX-License-Identifier: MIT
// ChildProcess: fork/exec with affinity and a parent-death signal, stop and CPU accounting.
#include "tools/bench/child_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tools/bench/interrupt_guard.h"

namespace uvs::bench {

ChildProcess::~ChildProcess() { stop(2000); }

std::string ChildProcess::start(const std::vector<std::string>& argv_in,
                                const std::string& log_path, const std::vector<int>& cpus) {
  if (pid_ > 0) return "already started";
  if (argv_in.empty()) return "empty command line";
  log_path_ = log_path;
  std::vector<std::string> args = argv_in;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) {
    if (c >= 0 && c < CPU_SETSIZE) CPU_SET(c, &set);
  }
  int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return log_path + ": " + std::strerror(errno);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec (the parent has other threads).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before the line above
    if (!cpus.empty()) ::sched_setaffinity(0, sizeof set, &set);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(out);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) return std::string("fork: ") + std::strerror(fork_errno);
  pid_ = pid;
  status_ = -1;
  register_child(pid);
  return {};
}

void ChildProcess::reaped(int status) {
  unregister_child(pid_);
  pid_ = -1;
  if (WIFEXITED(status)) {
    status_ = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    status_ = 128 + WTERMSIG(status);
  }
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped(status);
    return false;
  }
  return true;
}

int ChildProcess::stop(int grace_ms) {
  if (pid_ <= 0) return status_;
  ::kill(pid_, SIGTERM);
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (!running()) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped(status);
  status_ = -1;
  return -1;
}

int64_t process_cpu_ns(pid_t pid) {
  if (pid <= 0) return 0;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  int64_t sum = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(e.path() / "schedstat");
    long long on_cpu = 0;  // first field: time spent on the CPU, ns
    if (in >> on_cpu) sum += on_cpu;
  }
  return sum;
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t ChildProcess::cpu_ns() const { return process_cpu_ns(pid_); }

std::string ChildProcess::log() const { return read_whole_file(log_path_); }

std::string tail_lines(const std::string& text, int n) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string out;
  for (size_t i = lines.size() > size_t(n) ? lines.size() - size_t(n) : 0; i < lines.size(); ++i) {
    out += "\n    " + lines[i];
  }
  return out;
}

}  // namespace uvs::bench
