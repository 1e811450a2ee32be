// SPDX-License-Identifier: MIT
// LoopStats: the counters one event loop keeps about itself, for `uvswitchctl threads` and benches.
#pragma once

#include <cstddef>
#include <cstdint>

namespace uvs::ev {

/// A snapshot of one loop's counters. Taken on the loop's thread (EventLoop::stats()).
struct LoopStats {
  uint64_t iterations = 0;      ///< run_once calls
  uint64_t blocking_waits = 0;  ///< fd waits with a non-zero timeout (the thread may have slept)
  uint64_t fd_checks = 0;       ///< zero-timeout fd waits made while polling kept succeeding
  uint64_t poll_hits = 0;       ///< busy-poll phases that found work
  uint64_t poll_misses = 0;     ///< busy-poll phases that ran out their window
  uint64_t poll_ns_total = 0;   ///< time spent in busy-poll phases
  uint64_t fd_events = 0;       ///< handler callbacks run because an fd was ready
  uint64_t poll_events = 0;     ///< poll_ready callbacks run because poll() said yes
  uint64_t bhs_run = 0;         ///< bottom-half callbacks run
  uint64_t timers_fired = 0;    ///< timer callbacks run
  uint64_t poller_hits = 0;     ///< Poller::poll() calls that found work
  uint64_t poller_sleeps = 0;   ///< waits bounded by an idle poller's re-check period
  int64_t poll_window_ns = 0;   ///< current busy-poll window: max over polled handlers
  size_t handlers = 0;          ///< registered fd handlers (the loop's own notifier excluded)
  size_t polled_handlers = 0;   ///< handlers currently on the poll list
  size_t pollers = 0;           ///< registered fd-less pollers
  const char* monitor = "";     ///< "epoll" or "ppoll": the fd monitor in use now
};

}  // namespace uvs::ev
