// SPDX-License-Identifier: MIT
// Tests of fd-less pollers: work without sleeping, a bounded idle re-check, interrupt mode,
// removal from inside poll(), and silencing of external pollers.
#include <doctest/doctest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>

#include "eventloop/fn_handler.h"
#include "tests/eventloop/test_config.h"

using namespace uvs::ev;
using uvs::ev::test::loop_options;
using uvs::ev::test::run_until;

namespace {

/// A queue another thread fills without any wake-up, as a NIC fills a DPDK RX ring.
struct CountingPoller final : Poller {
  std::atomic<uint64_t> produced{0};
  uint64_t consumed = 0;
  uint64_t calls = 0;
  std::function<void()> on_poll;
  bool poll() override {
    ++calls;
    if (on_poll) on_poll();
    const uint64_t p = produced.load(std::memory_order_acquire);
    if (p == consumed) return false;
    consumed = p;
    return true;
  }
};

/// Counts poll() calls over `ns` of blocking iterations.
uint64_t calls_during(EventLoop& loop, const uint64_t& calls, int64_t ns) {
  const uint64_t before = calls;
  const int64_t end = now_ns() + ns;
  auto noop = [] {};
  Timer guard(loop, Callback::ref(noop));
  guard.arm_at(end);
  while (now_ns() < end) loop.run_once(true);
  return calls - before;
}

}  // namespace

TEST_CASE("a poller's work is found with no fd and no notify, and an idle loop sleeps") {
  EventLoop loop(loop_options());
  CountingPoller p;
  PollerOptions po;
  po.idle_min_ns = 50'000;
  po.idle_max_ns = 2'000'000;
  auto reg = loop.add_poller(&p, po);
  CHECK(loop.stats().pollers == 1);

  // Work posted from another thread with no wake-up at all is found within the re-check bound.
  std::thread producer([&] { p.produced.store(1, std::memory_order_release); });
  producer.join();
  CHECK(run_until(loop, [&] { return p.consumed == 1; }, 2'000'000'000));

  // Idle: the loop sleeps, so poll() is called about once per re-check period (at most 2 ms
  // once the period has doubled up), never in a spin. 300 ms of spinning would be 10^5+ calls.
  uint64_t idle_calls = calls_during(loop, p.calls, 300'000'000);
  CHECK(idle_calls >= 20);
  CHECK(idle_calls < 3000);
  CHECK(loop.stats().poller_sleeps > 0);

  // After the silence, new work is still picked up within the bound.
  const int64_t t0 = now_ns();
  std::thread late([&] { p.produced.store(2, std::memory_order_release); });
  late.join();
  CHECK(run_until(loop, [&] { return p.consumed == 2; }, 2'000'000'000));
  CHECK(now_ns() - t0 < 1'000'000'000);
}

TEST_CASE("while a poller keeps finding work the loop does not sleep") {
  EventLoop loop(loop_options());
  CountingPoller p;
  // Every poll() finds one more item, like an RX queue under load.
  p.on_poll = [&] { p.produced.fetch_add(1, std::memory_order_relaxed); };
  PollerOptions po;
  po.idle_min_ns = 500'000'000;  // a sleep would be obvious
  po.idle_max_ns = 500'000'000;
  auto reg = loop.add_poller(&p, po);
  const int64_t t0 = now_ns();
  for (int i = 0; i < 1000; ++i) loop.run_once(true);
  CHECK(now_ns() - t0 < 400'000'000);
  CHECK(p.consumed >= 1000);
  CHECK(loop.stats().poller_sleeps == 0);
}

TEST_CASE("an fd timer and an fd event still run beside a poller") {
  EventLoop loop(loop_options());
  CountingPoller p;
  auto reg = loop.add_poller(&p);
  int fired = 0;
  auto cb = [&] { ++fired; };
  Timer t(loop, Callback::ref(cb));
  t.arm_in(5'000'000);
  CHECK(run_until(loop, [&] { return fired == 1; }, 2'000'000'000));

  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  REQUIRE(efd >= 0);
  int reads = 0;
  FnHandler h;
  h.read = [&] {
    uint64_t v;
    (void)!read(efd, &v, sizeof v);
    ++reads;
  };
  auto freg = loop.add_fd(efd, Events::kRead, &h);
  std::thread kicker([&] {
    uint64_t one = 1;
    (void)!write(efd, &one, sizeof one);
  });
  kicker.join();
  CHECK(run_until(loop, [&] { return reads == 1; }, 2'000'000'000));
  freg.reset();
  close(efd);
}

TEST_CASE("interrupt mode: the loop sleeps without bound until the source's fd fires") {
  EventLoop loop(loop_options());
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  REQUIRE(efd >= 0);
  // The source's interrupt fd: readable when the "device" has work.
  FnHandler irq;
  irq.read = [&] {
    uint64_t v;
    (void)!read(efd, &v, sizeof v);
  };
  auto irq_reg = loop.add_fd(efd, Events::kRead, &irq);

  struct IrqPoller final : Poller {
    std::atomic<uint64_t> produced{0};
    uint64_t consumed = 0;
    uint64_t calls = 0;
    int enters = 0;
    int exits = 0;
    bool poll() override {
      ++calls;
      const uint64_t v = produced.load(std::memory_order_acquire);
      if (v == consumed) return false;
      consumed = v;
      return true;
    }
    bool try_enter_interrupt_mode() override {
      ++enters;
      // Armed first, then re-checked: work that raced with arming is never slept on.
      return produced.load(std::memory_order_acquire) == consumed;
    }
    void exit_interrupt_mode() override { ++exits; }
  } p;
  PollerOptions po;
  po.idle_min_ns = 50'000;
  po.idle_max_ns = 50'000;  // without interrupt mode this would be 20000 wake-ups a second
  auto reg = loop.add_poller(&p, po);

  // Settle, then measure: 200 ms of idleness costs only the wake-ups of the guard timers.
  (void)calls_during(loop, p.calls, 20'000'000);
  const uint64_t idle_calls = calls_during(loop, p.calls, 200'000'000);
  CHECK(idle_calls < 50);
  CHECK(p.enters > 0);
  CHECK(p.enters == p.exits);

  std::thread dev([&] {
    p.produced.store(1, std::memory_order_release);
    uint64_t one = 1;
    (void)!write(efd, &one, sizeof one);
  });
  dev.join();
  CHECK(run_until(loop, [&] { return p.consumed == 1; }, 2'000'000'000));
  reg.reset();
  irq_reg.reset();
  close(efd);
}

TEST_CASE("a poller may remove itself, or another, from inside poll()") {
  EventLoop loop(loop_options());
  CountingPoller a;
  CountingPoller b;
  PollerRegistration ra = loop.add_poller(&a);
  PollerRegistration rb = loop.add_poller(&b);
  a.on_poll = [&] {
    ra.reset();
    rb.reset();
  };
  loop.run_once(false);
  const uint64_t a_calls = a.calls;
  const uint64_t b_calls = b.calls;
  CHECK(a_calls == 1);
  CHECK(loop.stats().pollers == 0);
  for (int i = 0; i < 5; ++i) loop.run_once(false);
  CHECK(a.calls == a_calls);
  CHECK(b.calls == b_calls);
}

TEST_CASE("disable_external silences an external poller, enable_external brings it back") {
  EventLoop loop(loop_options());
  CountingPoller p;
  PollerOptions po;
  po.external = true;
  auto reg = loop.add_poller(&p, po);
  loop.disable_external();
  p.produced.store(1);
  const uint64_t calls = p.calls;
  for (int i = 0; i < 5; ++i) loop.run_once(false);
  CHECK(p.calls == calls);
  CHECK(p.consumed == 0);
  loop.enable_external();
  CHECK(run_until(loop, [&] { return p.consumed == 1; }, 2'000'000'000));
}
