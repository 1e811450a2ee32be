// SPDX-License-Identifier: MIT
// Tests of bottom halves and cross-thread calls: exact counts from many threads, coalescing, order.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "eventloop/bottom_half.h"
#include "tests/eventloop/test_config.h"

using namespace uvs::ev;
using uvs::ev::test::loop_options;

TEST_CASE("run_in_loop from 4 threads at once runs exactly as many times as scheduled") {
  EventLoop loop(loop_options());
  constexpr int kThreads = 4, kEach = 5000;
  int runs = 0;  // loop thread only: no atomic needed, TSan checks that claim
  std::atomic<int> started{0};
  std::thread runner([&] { loop.run(); });
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&] {
      started.fetch_add(1);
      while (started.load() < kThreads) {
      }
      for (int i = 0; i < kEach; ++i) loop.run_in_loop([&] { ++runs; });
    });
  }
  for (auto& p : producers) p.join();
  int seen = 0;
  loop.run_in_loop_sync([&] { seen = runs; });
  loop.request_stop();
  runner.join();
  CHECK(seen == kThreads * kEach);
}

TEST_CASE("a re-usable bottom half scheduled by 4 threads runs once per handshake") {
  EventLoop loop(loop_options());
  constexpr int kThreads = 4, kRounds = 2000;
  struct Slot {
    std::atomic<int> acked{0};
    int runs = 0;
  };
  std::vector<Slot> slots(kThreads);
  std::vector<std::unique_ptr<BottomHalf>> bhs;
  std::vector<std::function<void()>> fns(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    fns[t] = [&, t] {
      ++slots[t].runs;
      slots[t].acked.store(slots[t].runs, std::memory_order_release);
    };
    bhs.push_back(std::make_unique<BottomHalf>(loop, Callback::ref(fns[t])));
  }
  std::thread runner([&] { loop.run(); });
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 1; i <= kRounds; ++i) {
        bhs[t]->schedule();
        while (slots[t].acked.load(std::memory_order_acquire) < i) {
        }
      }
    });
  }
  for (auto& p : producers) p.join();
  loop.request_stop();
  runner.join();
  for (int t = 0; t < kThreads; ++t) CHECK(slots[t].runs == kRounds);
}

TEST_CASE("schedules before the loop runs coalesce into one run; cancel drops it") {
  EventLoop loop(loop_options());
  int runs = 0;
  auto fn = [&] { ++runs; };
  BottomHalf bh(loop, Callback::ref(fn));
  bh.schedule();
  bh.schedule();
  bh.schedule();
  loop.run_once(false);
  CHECK(runs == 1);
  bh.schedule();
  bh.cancel();
  loop.run_once(false);
  CHECK(runs == 1);
  bh.schedule();  // cancelled, then scheduled again: runs
  loop.run_once(false);
  CHECK(runs == 2);
}

TEST_CASE("bottom halves run in scheduling order and may re-schedule themselves") {
  EventLoop loop(loop_options());
  std::vector<int> order;
  BottomHalf* self = nullptr;
  int again = 0;
  auto f1 = [&] { order.push_back(1); };
  auto f2 = [&] {
    order.push_back(2);
    if (++again < 3) self->schedule();
  };
  BottomHalf b1(loop, Callback::ref(f1)), b2(loop, Callback::ref(f2));
  self = &b2;
  b1.schedule();
  b2.schedule();
  loop.run_once(false);
  CHECK(order == std::vector<int>{1, 2});
  loop.run_once(false);
  loop.run_once(false);
  CHECK(order == std::vector<int>{1, 2, 2, 2});
}

TEST_CASE("destroying a pending bottom half is safe and it never runs") {
  EventLoop loop(loop_options());
  int runs = 0;
  auto fn = [&] { ++runs; };
  {
    BottomHalf bh(loop, Callback::ref(fn));
    bh.schedule();
  }
  loop.run_once(false);
  CHECK(runs == 0);
}

TEST_CASE("notify wakes a loop blocked with no timers") {
  EventLoop loop(loop_options());
  std::atomic<bool> woke{false};
  std::thread t([&] {
    loop.run_once(true);  // blocks: nothing registered but the notifier
    woke.store(true);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(woke.load());
  loop.notify();
  t.join();
  CHECK(woke.load());
}
