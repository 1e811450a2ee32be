// SPDX-License-Identifier: MIT
// TestpmdProcess: fork/exec of dpdk-testpmd with a command pipe, reaping, and output parsing.
#include "tools/bench/testpmd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "tools/bench/child_process.h"
#include "tools/bench/interrupt_guard.h"

namespace uvs::bench {
namespace {

constexpr const char* kRunDir = "/var/run/dpdk";  // where DPDK keeps --file-prefix state

/// The number after `key` on `line`, or -1 if the key is absent.
double number_after(const std::string& line, const char* key) {
  size_t at = line.find(key);
  if (at == std::string::npos) return -1;
  return std::strtod(line.c_str() + at + std::strlen(key), nullptr);
}

}  // namespace

TestpmdProcess::~TestpmdProcess() {
  kill_and_reap();
  if (!prefix_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(std::string(kRunDir) + "/" + prefix_, ec);
    // On hugepages EAL leaves its page files (<prefix>map_N) in the hugetlbfs after exit.
    if (!huge_dir_.empty()) {
      for (const auto& e : std::filesystem::directory_iterator(huge_dir_, ec)) {
        if (e.path().filename().string().starts_with(prefix_ + "map_")) {
          std::filesystem::remove(e.path(), ec);
        }
      }
    }
  }
}

std::string TestpmdProcess::start(const std::string& binary, const std::string& file_prefix,
                                  const std::vector<std::string>& eal_args,
                                  const std::vector<std::string>& app_args,
                                  const std::string& log_path) {
  if (pid_ > 0) return "testpmd already started";
  prefix_ = file_prefix;
  log_path_ = log_path;
  for (size_t i = 0; i + 1 < eal_args.size(); ++i) {
    if (eal_args[i] == "--huge-dir") huge_dir_ = eal_args[i + 1];
  }
  std::vector<std::string> args;
  args.push_back(binary);
  args.insert(args.end(), eal_args.begin(), eal_args.end());
  args.push_back("--file-prefix=" + file_prefix);
  args.push_back("--");
  args.insert(args.end(), app_args.begin(), app_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return log_path + ": " + std::strerror(errno);
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec (the parent has other threads).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before the line above
    ::dup2(pipefd[0], 0);
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
  ::close(pipefd[0]);
  ::close(out);
  if (pid < 0) {
    ::close(pipefd[1]);
    return std::string("fork: ") + std::strerror(fork_errno);
  }
  pid_ = pid;
  stdin_fd_ = pipefd[1];
  register_child(pid);
  return {};
}

bool TestpmdProcess::send(const std::string& line) {
  if (stdin_fd_ < 0) return false;
  std::string l = line + "\n";
  size_t done = 0;
  while (done < l.size()) {
    ssize_t n = ::write(stdin_fd_, l.data() + done, l.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += size_t(n);
  }
  return true;
}

bool TestpmdProcess::wait_for(const std::string& needle, int timeout_ms, int count) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    const std::string text = log();
    int found = 0;
    for (size_t at = text.find(needle); at != std::string::npos;
         at = text.find(needle, at + needle.size())) {
      if (++found >= count) return true;
    }
    if (interrupted() || !running() || std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int TestpmdProcess::finish(int timeout_ms) {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
  if (pid_ <= 0) return -1;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      unregister_child(pid_);
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (r < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() >= end) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill_and_reap();
  return -1;
}

void TestpmdProcess::kill_and_reap() {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  unregister_child(pid_);
  pid_ = -1;
}

bool TestpmdProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    unregister_child(pid_);
    pid_ = -1;
    return false;
  }
  return true;
}

int64_t TestpmdProcess::cpu_ns() const { return process_cpu_ns(pid_); }

std::string TestpmdProcess::log() const { return read_whole_file(log_path_); }

std::string find_testpmd(const std::string& hint) {
  auto usable = [](const std::string& p) { return ::access(p.c_str(), X_OK) == 0; };
  if (hint.find('/') != std::string::npos) return usable(hint) ? hint : std::string();
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string p = dir + "/" + hint;
    if (usable(p)) return p;
  }
  return {};
}

std::vector<std::vector<PortStatsBlock>> parse_port_stats(const std::string& log, int ports) {
  std::vector<std::vector<PortStatsBlock>> out(size_t(ports > 0 ? ports : 0));
  std::istringstream in(log);
  std::string line;
  PortStatsBlock* cur = nullptr;
  while (std::getline(in, line)) {
    // "####### NIC statistics for port N #######" opens a block; "Forward statistics for port"
    // (printed by `stop`) has RX-packets lines too and must not be mistaken for one.
    if (line.find("statistics for port") != std::string::npos) {
      cur = nullptr;
      if (line.find("NIC statistics for port") == std::string::npos) continue;
      const long port = long(number_after(line, "NIC statistics for port"));
      if (port >= 0 && port < ports) {
        out[size_t(port)].emplace_back();
        cur = &out[size_t(port)].back();
      }
      continue;
    }
    if (cur == nullptr) continue;
    if (line.find("RX-packets:") != std::string::npos) {
      cur->rx_packets = uint64_t(number_after(line, "RX-packets:"));
    } else if (line.find("TX-packets:") != std::string::npos) {
      cur->tx_packets = uint64_t(number_after(line, "TX-packets:"));
    } else if (line.find("Rx-pps:") != std::string::npos) {
      cur->rx_pps = number_after(line, "Rx-pps:");
    } else if (line.find("Tx-pps:") != std::string::npos) {
      cur->tx_pps = number_after(line, "Tx-pps:");
      cur = nullptr;  // the block's last figure
    }
  }
  return out;
}

}  // namespace uvs::bench
