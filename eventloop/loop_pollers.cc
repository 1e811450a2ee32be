// SPDX-License-Identifier: MIT
// EventLoop's fd-less pollers: registration, the busy-poll and after-wait calls, and the bounded
// sleep of an idle poller (Seastar's pollfn with a timed re-check where no interrupt exists).
#include <algorithm>
#include <cassert>

#include "eventloop/clock.h"
#include "eventloop/event_loop.h"
#include "eventloop/poller_node.h"

namespace uvs::ev {

PollerRegistration::PollerRegistration(PollerRegistration&& o) noexcept
    : loop_(o.loop_), node_(o.node_) {
  o.node_ = nullptr;
}

PollerRegistration& PollerRegistration::operator=(PollerRegistration&& o) noexcept {
  if (this != &o) {
    reset();
    loop_ = o.loop_;
    node_ = o.node_;
    o.node_ = nullptr;
  }
  return *this;
}

void PollerRegistration::reset() {
  if (node_) {
    loop_->remove_poller(node_);
    node_ = nullptr;
  }
}

PollerRegistration EventLoop::add_poller(Poller* poller, const PollerOptions& options) {
  assert(in_loop_thread());
  auto* n = new PollerNode;
  n->poller = poller;
  n->opts = options;
  if (n->opts.idle_min_ns <= 0) n->opts.idle_min_ns = PollerOptions{}.idle_min_ns;
  if (n->opts.idle_max_ns < n->opts.idle_min_ns) n->opts.idle_max_ns = n->opts.idle_min_ns;
  // A new source may already hold work: look at it before the first sleep.
  n->idle_ns = 0;
  pollers_.push_back(n);
  notify();
  return PollerRegistration(this, n);
}

void EventLoop::remove_poller(PollerNode* node) {
  assert(in_loop_thread());
  // No exit_interrupt_mode(): the poller may be half-destroyed, as with remove_node().
  node->deleted = true;
  node->in_interrupt = false;
  if (walking_ > 0) {
    has_deleted_ = true;
  } else {
    pollers_.erase(std::find(pollers_.begin(), pollers_.end(), node));
    delete node;
  }
}

bool EventLoop::poller_active(const PollerNode* n) const {
  return !n->deleted && !(n->opts.external && external_disabled());
}

bool EventLoop::poll_pollers(bool busy_phase) {
  bool progress = false;
  // Index loop: a poll() may register another poller (push_back) or remove itself (deferred).
  for (size_t i = 0; i < pollers_.size(); ++i) {
    PollerNode* n = pollers_[i];
    if (!poller_active(n)) continue;
    // After the wait, a poller that already worked in this iteration's busy phase is not asked
    // again: its next burst belongs to the next iteration, after the fds had their turn.
    if (!busy_phase && n->worked) continue;
    if (n->poller->poll()) {
      n->worked = true;
      ++stats_.poller_hits;
      progress = true;
    }
  }
  return progress;
}

int64_t EventLoop::bound_sleep_by_pollers(int64_t timeout_ns) {
  int64_t bound = -1;
  for (const PollerNode* n : pollers_) {
    if (!poller_active(n)) continue;
    if (n->idle_ns == 0) return 0;  // work was found last time: look again before sleeping
    if (bound < 0 || n->idle_ns < bound) bound = n->idle_ns;
  }
  if (bound < 0) return timeout_ns;
  // Only now is the loop really about to sleep: offer each poller its interrupt mode.
  bound = -1;
  for (PollerNode* n : pollers_) {
    if (!poller_active(n)) continue;
    if (n->poller->try_enter_interrupt_mode()) {
      n->in_interrupt = true;
    } else if (bound < 0 || n->idle_ns < bound) {
      bound = n->idle_ns;
    }
  }
  if (bound >= 0 && (timeout_ns < 0 || bound < timeout_ns)) {
    ++stats_.poller_sleeps;
    return bound;
  }
  return timeout_ns;
}

bool EventLoop::pollers_after_wait() {
  for (PollerNode* n : pollers_) {
    if (n->in_interrupt) {
      n->in_interrupt = false;
      if (!n->deleted) n->poller->exit_interrupt_mode();
    }
  }
  const bool progress = poll_pollers(false);
  for (PollerNode* n : pollers_) {
    if (n->worked) {
      n->idle_ns = 0;
    } else if (n->idle_ns == 0) {
      n->idle_ns = n->opts.idle_min_ns;
    } else {
      n->idle_ns = std::min(n->idle_ns * 2, n->opts.idle_max_ns);
    }
  }
  return progress;
}

void EventLoop::adjust_poller_windows(int64_t block_ns) {
  const PollParams p{opts_.poll_max_ns, opts_.poll_grow, opts_.poll_shrink};
  for (PollerNode* n : pollers_) {
    if (n->worked) {
      n->window.on_event(block_ns, p);
    } else {
      n->window.on_idle(block_ns, p);
    }
  }
}

}  // namespace uvs::ev
