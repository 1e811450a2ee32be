// SPDX-License-Identifier: MIT
// SwitchDaemon: starting the daemon, control calls, and turning `stats` into a sample.
#include "tools/bench/switch_daemon.h"

#include <sched.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "eventloop/clock.h"
#include "tools/bench/interrupt_guard.h"

namespace uvs::bench {
namespace {

constexpr int kCallTimeoutMs = 5000;

uint64_t u64(const ctl::Json& j, const char* key) {
  return j.contains(key) && j[key].is_number_unsigned() ? j[key].get<uint64_t>() : 0;
}

}  // namespace

SwitchDaemon::~SwitchDaemon() { stop(); }

std::string SwitchDaemon::start(const SwitchDaemonOptions& o, int timeout_ms) {
  control_path_ = o.dir + "/control.sock";
  std::vector<std::string> argv = {o.binary, "--control", control_path_, "--threads",
                                   std::to_string(o.threads)};
  if (o.poll_max_ns >= 0) {
    argv.push_back("--poll-max-ns");
    argv.push_back(std::to_string(o.poll_max_ns));
  }
  for (const std::string& p : o.ports) {
    argv.push_back("--port");
    argv.push_back(p);
  }
  argv.insert(argv.end(), o.extra_args.begin(), o.extra_args.end());
  std::string err = proc_.start(argv, o.dir + "/uvswitch.log", o.cpus);
  if (!err.empty()) return "uvswitch: " + err;
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    std::string cerr;
    client_ = std::make_unique<ctl::ControlClient>();
    if (client_->connect(control_path_, &cerr)) {
      ctl::CallResult r = client_->call("version", ctl::Json::object(), kCallTimeoutMs);
      if (r.transport_ok && r.reply.contains("return")) {
        connected_ = true;
        return {};
      }
    }
    if (!proc_.running()) return "uvswitch exited during start-up:" + tail_lines(log(), 8);
    if (interrupted()) return "interrupted";
    if (std::chrono::steady_clock::now() >= end) {
      return "uvswitch did not answer on " + control_path_ + ":" + tail_lines(log(), 8);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool SwitchDaemon::call(const std::string& name, ctl::Json* ret, std::string* error) {
  if (!connected_) {
    *error = "not connected to the daemon";
    return false;
  }
  ctl::CallResult r = client_->call(name, ctl::Json::object(), kCallTimeoutMs);
  if (!r.transport_ok) {
    *error = name + ": " + r.error;
    return false;
  }
  if (!r.reply.contains("return")) {
    *error = name + ": " + r.raw;
    return false;
  }
  *ret = std::move(r.reply["return"]);
  return true;
}

bool SwitchDaemon::wait_ports_up(const std::vector<std::string>& ids, int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    ctl::Json ports;
    std::string err;
    if (call("ports", &ports, &err)) {
      size_t up = 0;
      for (const auto& p : ports) {
        for (const auto& id : ids) {
          if (p.value("id", "") == id && p.value("state", "") == "up") ++up;
        }
      }
      if (up == ids.size()) return true;
    }
    if (interrupted() || !proc_.running() || std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string SwitchDaemon::pin_io_threads(const std::vector<int>& cpus) {
  if (cpus.empty()) return {};
  std::vector<bool> pinned(cpus.size(), false);
  const std::string task_dir = "/proc/" + std::to_string(proc_.pid()) + "/task";
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator(task_dir, ec)) {
    std::string comm = read_whole_file(task.path().string() + "/comm");
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    if (comm.rfind("uvs-io", 0) != 0) continue;
    const std::string index = comm.substr(6);
    if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos) continue;
    const size_t k = std::stoul(index);
    if (k >= cpus.size()) continue;
    const pid_t tid = pid_t(std::stol(task.path().filename().string()));
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpus[k], &set);
    if (::sched_setaffinity(tid, sizeof set, &set) != 0) {
      return comm + " onto CPU " + std::to_string(cpus[k]) + ": " + std::strerror(errno);
    }
    pinned[k] = true;
  }
  for (size_t k = 0; k < cpus.size(); ++k) {
    if (!pinned[k]) return "no thread uvs-io" + std::to_string(k) + " in " + task_dir;
  }
  return {};
}

bool SwitchDaemon::sample(DaemonSample* s, std::string* error) {
  ctl::Json st;
  // CPU first, then the counters: the control call's own CPU is not charged to the interval.
  s->cpu_ns = proc_.cpu_ns();
  s->wall_ns = ev::now_ns();
  if (!call("stats", &st, error)) return false;
  s->out_frames = s->dropped = s->flooded = s->ring_out = 0;
  s->thread_out.clear();
  s->queue_out.clear();
  auto add_at = [](std::vector<uint64_t>* v, size_t i, uint64_t n) {
    if (v->size() <= i) v->resize(i + 1, 0);
    (*v)[i] += n;
  };
  for (const auto& p : st["ports"]) {
    const ctl::Json& sw = p["switch"];
    s->out_frames += u64(sw, "out-frames");
    s->dropped += u64(sw, "drop-no-buffers") + u64(sw, "drop-port-down") + u64(sw, "drop-broken");
    if (!p.contains("backend") || !p["backend"].contains("queues")) continue;
    const ctl::Json& qs = p["backend"]["queues"];
    for (size_t q = 0; q < qs.size(); ++q) {
      const uint64_t n = u64(qs[q], "out-frames");
      add_at(&s->queue_out, q, n);
      if (qs[q].contains("thread")) add_at(&s->thread_out, u64(qs[q], "thread"), n);
    }
  }
  for (const auto& t : st["threads"]) {
    s->dropped += u64(t, "drop-ring-full");
    s->flooded += u64(t, "flooded");
    s->ring_out += u64(t, "ring-out");
  }
  return true;
}

int SwitchDaemon::stop() {
  if (connected_) {
    client_->call("quit", ctl::Json::object(), 1000);
    client_->wait_closed(2000);
    connected_ = false;
  }
  return proc_.stop(5000);
}

}  // namespace uvs::bench
