// SPDX-License-Identifier: MIT
// CrossWiredPair: start-up, sampling and teardown of the benchmark's two-port vhost-user backend.
#include "tools/bench/cross_wired_pair.h"

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "eventloop/clock.h"

namespace uvs::bench {
namespace {

ev::LoopOptions loop_options(int64_t poll_max_ns) {
  ev::LoopOptions o;
  if (poll_max_ns >= 0) o.poll_max_ns = poll_max_ns;
  return o;
}

}  // namespace

void CrossWiredPair::Sink::receive_burst(port::Port& from,
                                         std::span<const port::Frame> frames) noexcept {
  const int dir = &from == a ? 0 : 1;
  port::Port* to = dir == 0 ? b : a;
  const size_t n = to->send_burst(frames);
  forwarded[dir].store(forwarded[dir].load(std::memory_order_relaxed) + n,
                       std::memory_order_relaxed);
  if (n != frames.size()) {
    dropped[dir].store(dropped[dir].load(std::memory_order_relaxed) + (frames.size() - n),
                       std::memory_order_relaxed);
  }
}

CrossWiredPair::CrossWiredPair(const std::string& dir, int cpu, int64_t poll_max_ns)
    : path_a_(dir + "/a.sock"), path_b_(dir + "/b.sock"), io_("uvs-bench-be", loop_options(poll_max_ns)) {
  if (!io_.start(cpu >= 0 ? std::optional<int>(cpu) : std::nullopt)) {
    error_ = "cannot pin the backend thread to CPU " + std::to_string(cpu);
    return;
  }
  io_.loop().run_in_loop_sync([&] {
    have_cpu_clock_ = pthread_getcpuclockid(pthread_self(), &cpu_clock_) == 0;
    auto make = [&](const char* name, const std::string& path) {
      netback::VhostUserNetOptions o;
      o.name = name;
      o.socket_path = path;
      o.role = netback::SocketRole::kServer;
      // Frames go straight to the other port: offloads need no fallback (the GSO scenario).
      o.offloads = true;
      return std::make_unique<netback::VhostUserNetPort>(io_.loop(), o);
    };
    a_ = make("A", path_a_);
    b_ = make("B", path_b_);
    sink_.a = a_.get();
    sink_.b = b_.get();
    a_->set_sink(&sink_);
    b_->set_sink(&sink_);
    for (auto* p : {a_.get(), b_.get()}) {
      netback::Status s = p->start();
      if (!s && error_.empty()) error_ = s.to_string();
    }
  });
}

CrossWiredPair::~CrossWiredPair() {
  if (io_.running()) {
    io_.loop().run_in_loop_sync([&] {
      a_.reset();
      b_.reset();
    });
    io_.stop();
  }
  // Ports are destroyed before the loop either way (they unlink their own listening sockets).
  a_.reset();
  b_.reset();
  ::unlink(path_a_.c_str());
  ::unlink(path_b_.c_str());
}

PairSample CrossWiredPair::sample() const noexcept {
  PairSample s;
  s.wall_ns = ev::now_ns();
  if (have_cpu_clock_) {
    timespec ts{};
    if (clock_gettime(cpu_clock_, &ts) == 0) {
      s.cpu_ns = int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
  }
  for (int d = 0; d < 2; ++d) {
    s.forwarded[d] = sink_.forwarded[d].load(std::memory_order_relaxed);
    s.dropped[d] = sink_.dropped[d].load(std::memory_order_relaxed);
  }
  return s;
}

netback::VhostUserNetStats CrossWiredPair::port_stats(int which) {
  netback::VhostUserNetStats s;
  if (!io_.running()) return s;
  io_.loop().run_in_loop_sync([&] { s = (which == 0 ? a_ : b_)->stats(); });
  return s;
}

bool CrossWiredPair::wait_up(int timeout_ms) {
  if (!io_.running()) return false;
  const int64_t end = ev::now_ns() + int64_t(timeout_ms) * 1'000'000;
  for (;;) {
    bool up = false;
    io_.loop().run_in_loop_sync([&] {
      up = a_->state() == port::PortState::kUp && b_->state() == port::PortState::kUp;
    });
    if (up) return true;
    if (ev::now_ns() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace uvs::bench
