// SPDX-License-Identifier: MIT
// Timer: arming and cancelling through the owning loop's TimerQueue.
#include "eventloop/timer.h"

#include <cassert>

#include "eventloop/clock.h"
#include "eventloop/event_loop.h"
#include "eventloop/timer_queue.h"

namespace uvs::ev {

Timer::Timer(EventLoop& loop, Callback cb) : loop_(&loop), cb_(cb) {}

Timer::~Timer() {
  cancel();
}

void Timer::arm_at(int64_t deadline_ns) {
  assert(loop_->in_loop_thread());
  loop_->timers_->arm(this, deadline_ns);
}

void Timer::arm_in(int64_t delay_ns) {
  arm_at(now_ns() + delay_ns);
}

void Timer::cancel() {
  if (armed()) loop_->timers_->cancel(this);
}

}  // namespace uvs::ev
