// SPDX-License-Identifier: MIT
// TimerQueue: heap maintenance and running due timers.
#include "eventloop/timer_queue.h"

#include "eventloop/timer.h"

namespace uvs::ev {

void TimerQueue::place(size_t i, Timer* t) {
  heap_[i] = t;
  t->heap_index_ = i;
}

void TimerQueue::sift_up(size_t i) {
  Timer* t = heap_[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (heap_[parent]->deadline_ns_ <= t->deadline_ns_) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, t);
}

void TimerQueue::sift_down(size_t i) {
  Timer* t = heap_[i];
  const size_t n = heap_.size();
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->deadline_ns_ < heap_[child]->deadline_ns_) ++child;
    if (heap_[child]->deadline_ns_ >= t->deadline_ns_) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, t);
}

void TimerQueue::erase_at(size_t i) {
  Timer* gone = heap_[i];
  Timer* last = heap_.back();
  heap_.pop_back();
  gone->heap_index_ = Timer::kNotArmed;
  if (last == gone) return;
  place(i, last);
  sift_up(i);
  sift_down(last->heap_index_);
}

void TimerQueue::arm(Timer* t, int64_t deadline_ns) {
  if (t->armed()) {
    const int64_t old = t->deadline_ns_;
    t->deadline_ns_ = deadline_ns;
    if (deadline_ns < old) {
      sift_up(t->heap_index_);
    } else {
      sift_down(t->heap_index_);
    }
    return;
  }
  t->deadline_ns_ = deadline_ns;
  heap_.push_back(t);
  t->heap_index_ = heap_.size() - 1;
  sift_up(t->heap_index_);
}

void TimerQueue::cancel(Timer* t) {
  if (t->armed()) erase_at(t->heap_index_);
}

int64_t TimerQueue::next_deadline() const {
  return heap_.empty() ? -1 : heap_[0]->deadline_ns_;
}

size_t TimerQueue::run_due(int64_t now_ns) {
  size_t ran = 0;
  // Bounded by the number armed on entry: see the header on self-re-arming timers.
  size_t budget = heap_.size();
  while (budget-- > 0 && !heap_.empty() && heap_[0]->deadline_ns_ <= now_ns) {
    Timer* t = heap_[0];
    erase_at(0);
    ++ran;
    t->cb_();  // may re-arm or destroy t: nothing of t is touched afterwards
  }
  return ran;
}

}  // namespace uvs::ev
