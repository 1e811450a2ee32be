// SPDX-License-Identifier: MIT
// BottomHalf: scheduling, cancelling and handing a pending node over to the loop on destruction.
#include "eventloop/bottom_half.h"

#include <cassert>

#include "eventloop/bh_node.h"
#include "eventloop/event_loop.h"

namespace uvs::ev {

BottomHalf::BottomHalf(EventLoop& loop, Callback cb) : loop_(&loop), node_(new BhNode) {
  node_->cb = cb;
}

BottomHalf::~BottomHalf() {
  assert(loop_->in_loop_thread());
  uint32_t old = node_->flags.fetch_or(kBhDeleted, std::memory_order_acq_rel);
  // Still on the loop's list: the loop frees it when it dequeues it.
  if (!(old & kBhPending)) delete node_;
}

void BottomHalf::schedule() {
  uint32_t old = node_->flags.fetch_or(kBhPending | kBhScheduled, std::memory_order_acq_rel);
  if (old & kBhPending) return;  // already queued; the loop was notified by that schedule
  loop_->push_bh(node_);
}

void BottomHalf::cancel() {
  node_->flags.fetch_and(~uint32_t(kBhScheduled), std::memory_order_acq_rel);
}

}  // namespace uvs::ev
