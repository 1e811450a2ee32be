// SPDX-License-Identifier: MIT
// The benchmark's interrupt guard: signal handlers, the child registry and the stale-file sweep.
#include "tools/bench/interrupt_guard.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace uvs::bench {
namespace {

// Live children, for the signal handler (which may only touch lock-free atomics and call kill()).
constexpr int kMaxChildren = 8;
std::atomic<pid_t> g_children[kMaxChildren];
std::atomic<bool> g_interrupted{false};

void on_signal(int) {
  g_interrupted.store(true);
  for (auto& slot : g_children) {
    pid_t p = slot.load();
    if (p > 0) ::kill(p, SIGKILL);
  }
}

/// Whether process `pid` is gone (or a zombie that will never run again).
bool process_gone(long pid) {
  if (pid <= 0) return true;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return true;
  // "pid (comm) S ...": the state follows the last ')' (comm may contain anything).
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

/// Removes entries of `dir` named `stem`<pid>... whose process is gone.
void remove_stale(const char* dir, const std::string& stem) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(stem, 0) != 0) continue;
    if (process_gone(std::strtol(name.c_str() + stem.size(), nullptr, 10))) {
      std::error_code ec2;
      std::filesystem::remove_all(e.path(), ec2);
    }
  }
}

}  // namespace

void install_interrupt_guard() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends us the ordinary way
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  remove_stale("/var/run/dpdk", "uvsbench-");
  remove_stale("/tmp", "uvs-bench-netback-");
  remove_stale("/tmp", "uvs-bench-switch-");
}

bool interrupted() { return g_interrupted.load(); }

bool sleep_unless_interrupted(double seconds) {
  const auto end = std::chrono::steady_clock::now() +
                   std::chrono::microseconds(int64_t(seconds * 1e6));
  while (!interrupted()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= end) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        end - now, std::chrono::milliseconds(10)));
  }
  return false;
}

void register_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t none = 0;
    if (slot.compare_exchange_strong(none, pid)) break;
  }
  // A signal that arrived before the registration above: its handler did not see this child.
  if (g_interrupted.load()) ::kill(pid, SIGKILL);
}

void unregister_child(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t want = pid;
    if (slot.compare_exchange_strong(want, 0)) return;
  }
}

}  // namespace uvs::bench
