// SPDX-License-Identifier: MIT
// TimerQueue: a loop's armed timers as a binary min-heap keyed by deadline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace uvs::ev {

class Timer;

/// Armed timers of one loop. Arm, re-arm and cancel are O(log n); the next deadline is O(1).
/// Loop thread only.
class TimerQueue {
 public:
  void arm(Timer* t, int64_t deadline_ns);
  void cancel(Timer* t);
  /// Earliest deadline, or -1 when nothing is armed.
  int64_t next_deadline() const;
  /// Runs every timer due at `now_ns`. A timer re-armed by its own callback for a deadline that
  /// is already due runs on the next call, not this one, so it cannot starve the loop.
  size_t run_due(int64_t now_ns);
  size_t size() const { return heap_.size(); }

 private:
  void sift_up(size_t i);
  void sift_down(size_t i);
  void place(size_t i, Timer* t);
  void erase_at(size_t i);
  std::vector<Timer*> heap_;
};

}  // namespace uvs::ev
