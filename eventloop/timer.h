// SPDX-License-Identifier: MIT
// Timer: a nanosecond-deadline callback on one loop, cheap to re-arm (O(log n) heap).
#pragma once

#include <cstddef>
#include <cstdint>

#include "eventloop/callback.h"

namespace uvs::ev {

class EventLoop;

/// A re-armable timer. Loop thread only. Fires at or after its deadline (never early), once per
/// arm. Must be destroyed before its loop.
class Timer {
 public:
  Timer(EventLoop& loop, Callback cb);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  /// Arms (or re-arms) for an absolute CLOCK_MONOTONIC deadline in ns.
  void arm_at(int64_t deadline_ns);
  /// Arms (or re-arms) `delay_ns` from now.
  void arm_in(int64_t delay_ns);
  void cancel();
  bool armed() const { return heap_index_ != kNotArmed; }
  int64_t deadline() const { return deadline_ns_; }

 private:
  friend class TimerQueue;
  static constexpr size_t kNotArmed = ~size_t{0};
  EventLoop* loop_;
  Callback cb_;
  int64_t deadline_ns_ = 0;
  size_t heap_index_ = kNotArmed;
};

}  // namespace uvs::ev
