// SPDX-License-Identifier: MIT
// PollWindow: the grow/shrink arithmetic of adaptive polling.
#include "eventloop/poll_window.h"

namespace uvs::ev {

void PollWindow::shrink(const PollParams& p) {
  // shrink == 0 means "stop polling at once", as QEMU's poll-shrink=0 does.
  ns_ = p.shrink > 1 ? ns_ / p.shrink : 0;
}

void PollWindow::on_event(int64_t block_ns, const PollParams& p) {
  if (p.max_ns <= 0) {
    ns_ = 0;
  } else if (block_ns <= ns_) {
    // Polling caught the event within the window: the window is right.
  } else if (block_ns > p.max_ns) {
    shrink(p);
  } else if (ns_ < p.max_ns && block_ns < p.max_ns) {
    const int64_t grow = p.grow > 1 ? p.grow : 2;
    ns_ = ns_ ? ns_ * grow : kInitialNs;
    if (ns_ > p.max_ns) ns_ = p.max_ns;
  }
}

void PollWindow::on_idle(int64_t block_ns, const PollParams& p) {
  if (ns_ != 0 && block_ns > p.max_ns) shrink(p);
}

void PollWindow::clamp(const PollParams& p) {
  if (ns_ > p.max_ns) ns_ = p.max_ns > 0 ? p.max_ns : 0;
}

}  // namespace uvs::ev
