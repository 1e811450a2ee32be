// SPDX-License-Identifier: MIT
// The event-loop benchmark: wake-up latency, dispatch cost versus fd count, idle CPU.
#include "tools/bench/eventloop_bench.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "eventloop/bottom_half.h"
#include "eventloop/clock.h"
#include "eventloop/fn_handler.h"
#include "eventloop/io_thread.h"
#include "eventloop/timer.h"
#include "tools/bench/stats_util.h"

namespace uvs::bench {
namespace {

using ev::Callback;
using ev::EventLoop;
using ev::Events;
using ev::LoopOptions;
using ev::MonitorKind;
using ev::now_ns;

void spin_ns(int64_t ns) {
  const int64_t end = now_ns() + ns;
  while (now_ns() < end) {
  }
}

int64_t thread_cpu_of(std::thread& t) {
  clockid_t cid;
  if (pthread_getcpuclockid(t.native_handle(), &cid) != 0) return 0;
  timespec ts;
  clock_gettime(cid, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void pin_self(int cpu) {
  if (std::thread::hardware_concurrency() < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// ---- cross-thread wake-up latency -----------------------------------------------------------

struct WakeResult {
  int64_t p50 = 0, p99 = 0;
};

/// One thread schedules a bottom half on a loop running on the other core and waits for it to
/// run; the latency is schedule-to-callback. `gap_ns` of idle time separates samples: inside the
/// poll window polling should catch the wake-up; far outside it the loop sleeps either way.
WakeResult measure_wakeup(bool polling, int64_t gap_ns, int samples) {
  LoopOptions o;
  o.monitor = MonitorKind::kEpoll;
  o.poll_max_ns = polling ? 32768 : 0;
  EventLoop loop(o);
  std::vector<int64_t> lat(size_t(samples), 0);
  std::atomic<int64_t> sent_at{0};
  std::atomic<int> done{-1};
  int idx = 0;
  auto cb = [&] {
    lat[size_t(idx)] = now_ns() - sent_at.load(std::memory_order_acquire);
    done.store(idx++, std::memory_order_release);
  };
  ev::BottomHalf bh(loop, Callback::ref(cb));
  std::thread runner([&] {
    pin_self(1);
    loop.run();
  });
  pin_self(0);
  for (int i = 0; i < samples; ++i) {
    sent_at.store(now_ns(), std::memory_order_release);
    bh.schedule();
    while (done.load(std::memory_order_acquire) < i) {
    }
    spin_ns(gap_ns);
  }
  loop.request_stop();
  runner.join();
  // Drop the first 5% as warm-up: the poll window needs a few events to open.
  std::vector<int64_t> steady(lat.begin() + samples / 20, lat.end());
  WakeResult r;
  r.p50 = percentile(steady, 50);
  r.p99 = percentile(steady, 99);
  return r;
}

// ---- dispatch cost versus registered fds ----------------------------------------------------

/// ns per non-blocking iteration with `idle_fds` registered but silent and one fd always ready:
/// the experiment behind QEMU's move of the iohandler onto epoll (ppoll is O(n) in the fds, which
/// tens of idle virtio ioeventfds make visible). ppoll walks every fd each time; epoll should not.
double measure_dispatch(MonitorKind kind, int idle_fds, int iterations) {
  LoopOptions o;
  o.monitor = kind;
  o.poll_max_ns = 0;
  EventLoop loop(o);
  ev::FnHandler idle, active;
  int runs = 0;
  active.read = [&] { ++runs; };  // never drained: level-triggered, so ready every iteration
  std::vector<int> fds;
  std::vector<ev::FdRegistration> regs;
  for (int i = 0; i < idle_fds; ++i) {
    fds.push_back(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    regs.push_back(loop.add_fd(fds.back(), Events::kRead, &idle));
  }
  int hot = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
  auto hot_reg = loop.add_fd(hot, Events::kRead, &active);
  for (int i = 0; i < 1000; ++i) loop.run_once(false);
  const int64_t t0 = now_ns();
  for (int i = 0; i < iterations; ++i) loop.run_once(false);
  const double per = double(now_ns() - t0) / iterations;
  hot_reg.reset();
  regs.clear();
  close(hot);
  for (int fd : fds) close(fd);
  return runs >= iterations ? per : -1.0;
}

// ---- idle CPU -------------------------------------------------------------------------------

/// Share of one core a loop thread uses once traffic stops. Two pollable handlers are made busy
/// first so their windows open; then only a 10 ms housekeeping timer (FDB aging, slirp ticks)
/// wakes the loop. With adaptive polling each wake-up must stop costing a full poll window.
double measure_idle_cpu(bool polling, double seconds) {
  LoopOptions o;
  o.poll_max_ns = polling ? 32768 : 0;
  EventLoop loop(o);
  struct Source {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    std::atomic<uint64_t> produced{0};
    uint64_t consumed = 0;
    ev::FnHandler h;
    ev::FdRegistration reg;
  };
  Source src[2];
  for (auto& s : src) {
    s.h.read = [&s] {
      uint64_t v;
      (void)!read(s.fd, &v, sizeof v);
      s.consumed = s.produced.load();
    };
    s.h.poll_fn = [&s] { return s.produced.load(std::memory_order_acquire) != s.consumed; };
    s.h.ready = [&s] { s.consumed = s.produced.load(); };
    s.reg = loop.add_fd(s.fd, Events::kRead, &s.h);
  }
  ev::Timer* tick_ptr = nullptr;
  auto tick = [&] { tick_ptr->arm_in(10'000'000); };
  ev::Timer tick_timer(loop, Callback::ref(tick));
  tick_ptr = &tick_timer;
  tick_timer.arm_in(10'000'000);

  std::thread runner([&] {
    pin_self(1);
    loop.run();
  });
  pin_self(0);
  const int64_t busy_end = now_ns() + 200'000'000;
  const uint64_t one = 1;
  while (now_ns() < busy_end) {
    for (auto& s : src) {
      s.produced.fetch_add(1, std::memory_order_release);
      (void)!write(s.fd, &one, sizeof one);
    }
    spin_ns(5000);
  }
  // Let the windows shrink (QEMU-style halving per idle wake-up takes a handful of ticks).
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int64_t cpu0 = thread_cpu_of(runner), wall0 = now_ns();
  std::this_thread::sleep_for(std::chrono::microseconds(int64_t(seconds * 1e6)));
  const double share = double(thread_cpu_of(runner) - cpu0) / double(now_ns() - wall0);
  loop.run_in_loop_sync([&] {
    tick_timer.cancel();
    for (auto& s : src) s.reg.reset();
  });
  loop.request_stop();
  runner.join();
  for (auto& s : src) close(s.fd);
  return share;
}

void raise_fd_limit() {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int run_eventloop_bench(const EventLoopBenchOptions& opts) {
  raise_fd_limit();
  nlohmann::json out;
  out["benchmark"] = "eventloop";
  out["repeats"] = opts.repeats;

  // Wake-up latency.
  const int64_t gaps[] = {10'000, 200'000};
  for (bool polling : {false, true}) {
    for (int64_t gap : gaps) {
      std::vector<double> p50s, p99s;
      for (int r = 0; r < opts.repeats; ++r) {
        WakeResult w = measure_wakeup(polling, gap, opts.wake_samples);
        p50s.push_back(double(w.p50));
        p99s.push_back(double(w.p99));
      }
      nlohmann::json row;
      row["polling"] = polling;
      row["gap_us"] = gap / 1000;
      row["p50_ns"] = median(p50s);
      row["p99_ns"] = median(p99s);
      out["wakeup"].push_back(row);
    }
  }

  // Dispatch cost vs idle fds.
  const int counts[] = {1, 64, 1024, 4096};
  struct Mon {
    MonitorKind kind;
    const char* name;
  } mons[] = {
      {MonitorKind::kEpoll, "epoll"}, {MonitorKind::kPpoll, "ppoll"}, {MonitorKind::kAuto, "auto"}};
  // Interleaved (repeat, count, monitor) so that load from elsewhere on this noisy machine falls
  // on every monitor alike instead of on whichever ran during a busy stretch.
  std::vector<double> samples[3][4];
  for (int r = 0; r < opts.repeats; ++r) {
    for (int c = 0; c < 4; ++c) {
      for (int m = 0; m < 3; ++m)
        samples[m][c].push_back(measure_dispatch(mons[m].kind, counts[c], 20000));
    }
  }
  for (int m = 0; m < 3; ++m) {
    nlohmann::json row;
    row["monitor"] = mons[m].name;
    for (int c = 0; c < 4; ++c)
      row["ns_per_iteration"][std::to_string(counts[c])] = median(samples[m][c]);
    out["dispatch"].push_back(row);
  }

  // Idle CPU.
  for (bool polling : {false, true}) {
    std::vector<double> v;
    for (int r = 0; r < opts.repeats; ++r)
      v.push_back(measure_idle_cpu(polling, opts.idle_seconds));
    nlohmann::json row;
    row["polling"] = polling;
    row["core_percent"] = median(v) * 100.0;
    out["idle_cpu"].push_back(row);
  }

  if (opts.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("uvswitch-bench eventloop (median of %d runs)\n\n", opts.repeats);
  std::printf("Cross-thread wake-up latency (bottom half scheduled from the other core)\n");
  std::printf("  %-8s %-8s %10s %10s\n", "polling", "gap", "p50 ns", "p99 ns");
  for (auto& r : out["wakeup"]) {
    std::printf("  %-8s %5lld us %10.0f %10.0f\n", r["polling"].get<bool>() ? "on" : "off",
                (long long)r["gap_us"].get<int64_t>(), r["p50_ns"].get<double>(),
                r["p99_ns"].get<double>());
  }
  std::printf("\nDispatch cost per iteration, one fd ready, N idle fds registered (ns)\n");
  std::printf("  %-8s", "monitor");
  for (int n : counts) std::printf(" %9s", ("N=" + std::to_string(n)).c_str());
  std::printf(" %12s\n", "N=4096/N=1");
  for (auto& r : out["dispatch"]) {
    std::printf("  %-8s", r["monitor"].get<std::string>().c_str());
    for (int n : counts)
      std::printf(" %9.0f", r["ns_per_iteration"][std::to_string(n)].get<double>());
    std::printf(" %11.2fx\n", r["ns_per_iteration"]["4096"].get<double>() /
                                  r["ns_per_iteration"]["1"].get<double>());
  }
  std::printf("\nIdle loop CPU after traffic stops (10 ms housekeeping timer), %% of one core\n");
  for (auto& r : out["idle_cpu"]) {
    std::printf("  polling %-4s %6.2f %%\n", r["polling"].get<bool>() ? "on" : "off",
                r["core_percent"].get<double>());
  }
  return 0;
}

}  // namespace uvs::bench
