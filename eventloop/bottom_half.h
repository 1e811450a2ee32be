// SPDX-License-Identifier: MIT
// BottomHalf: a callback any thread can schedule onto a loop, lock-free and coalescing.
#pragma once

#include "eventloop/callback.h"

namespace uvs::ev {

class EventLoop;
struct BhNode;

/// A re-usable bottom half. schedule() from any thread queues one run of the callback on the
/// loop thread; schedules that arrive before it runs coalesce into that one run. Construction and
/// destruction happen on the loop thread (or before it runs), and after the last schedule() from
/// elsewhere: scheduling a destroyed bottom half is a use-after-free, as with any object.
class BottomHalf {
 public:
  BottomHalf(EventLoop& loop, Callback cb);
  ~BottomHalf();
  BottomHalf(const BottomHalf&) = delete;
  BottomHalf& operator=(const BottomHalf&) = delete;

  /// Queues one run and wakes the loop. Any thread; one atomic RMW, plus a list push and a
  /// notify when it was not already pending.
  void schedule();
  /// Drops a pending run that has not started. Loop thread only.
  void cancel();

 private:
  EventLoop* loop_;
  BhNode* node_;
};

}  // namespace uvs::ev
