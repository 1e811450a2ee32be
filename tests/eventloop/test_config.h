// SPDX-License-Identifier: MIT
// The loop configuration a test run uses, read from UVS_TEST_CONFIG ("poll=on,monitor=epoll").
#pragma once

#include <cstdlib>
#include <string>

#include "eventloop/clock.h"
#include "eventloop/event_loop.h"
#include "eventloop/timer.h"

namespace uvs::ev::test {

inline LoopOptions loop_options() {
  LoopOptions o;
  const char* env = std::getenv("UVS_TEST_CONFIG");
  std::string cfg = env ? env : "";
  if (cfg.find("poll=off") != std::string::npos) o.poll_max_ns = 0;
  if (cfg.find("monitor=epoll") != std::string::npos) o.monitor = MonitorKind::kEpoll;
  if (cfg.find("monitor=ppoll") != std::string::npos) o.monitor = MonitorKind::kPpoll;
  return o;
}

inline bool polling_on() {
  return loop_options().poll_max_ns > 0;
}

/// Runs blocking iterations until `done()` or `timeout_ns` passes; returns done(). A guard timer
/// at the deadline keeps a blocking wait from outliving the test.
template <typename F>
bool run_until(EventLoop& loop, F done, int64_t timeout_ns = 5'000'000'000) {
  const int64_t deadline = now_ns() + timeout_ns;
  auto noop = [] {};
  Timer guard(loop, Callback::ref(noop));
  guard.arm_at(deadline);
  while (!done() && now_ns() < deadline) loop.run_once(true);
  return done();
}

}  // namespace uvs::ev::test
