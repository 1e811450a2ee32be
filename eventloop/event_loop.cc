// SPDX-License-Identifier: MIT
// EventLoop: one iteration (poll, wait, dispatch), handler registration and the notify protocol.
#include "eventloop/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <system_error>

#include "eventloop/bh_node.h"
#include "eventloop/clock.h"
#include "eventloop/fd_monitor.h"
#include "eventloop/handler_node.h"
#include "eventloop/poller_node.h"
#include "eventloop/timer_queue.h"

namespace uvs::ev {

// ---- the loop's own wake-up source ----------------------------------------------------------

/// The eventfd other threads write to wake a blocked loop. Its poll() reads the `notified_` flag,
/// so a wake-up that arrives while the loop busy-polls costs no syscall on either side.
class EventLoop::Notifier final : public FdHandler {
 public:
  explicit Notifier(EventLoop* loop) : loop_(loop), fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  ~Notifier() override { close(fd_); }
  int fd() const { return fd_; }
  void wake() {
    uint64_t one = 1;
    // EAGAIN means the counter is saturated: the loop is going to wake anyway.
    (void)!write(fd_, &one, sizeof one);
  }

  void on_readable() override {
    uint64_t v;
    (void)!read(fd_, &v, sizeof v);
  }
  bool can_poll() const override { return true; }
  bool poll() override { return loop_->notified_.load(std::memory_order_acquire); }

 private:
  EventLoop* loop_;
  int fd_;
};

/// Adapter that lets the fd monitors queue ready nodes without seeing the loop's internals.
struct LoopReadySink final : ReadySink {
  explicit LoopReadySink(EventLoop* l) : loop(l) {}
  void on_ready(HandlerNode* node, uint32_t events) override {
    loop->add_ready(node, events, false);
  }
  EventLoop* loop;
};

namespace {

std::unique_ptr<FdMonitor> make_monitor(MonitorKind kind) {
  return kind == MonitorKind::kEpoll ? make_epoll_monitor() : make_ppoll_monitor();
}

}  // namespace

// ---- FdRegistration -------------------------------------------------------------------------

FdRegistration::FdRegistration(FdRegistration&& o) noexcept : loop_(o.loop_), node_(o.node_) {
  o.node_ = nullptr;
}

FdRegistration& FdRegistration::operator=(FdRegistration&& o) noexcept {
  if (this != &o) {
    reset();
    loop_ = o.loop_;
    node_ = o.node_;
    o.node_ = nullptr;
  }
  return *this;
}

void FdRegistration::set_events(Events events) {
  if (node_) loop_->update_events(node_, events);
}

void FdRegistration::reset() {
  if (node_) {
    loop_->remove_node(node_);
    node_ = nullptr;
  }
}

// ---- construction ---------------------------------------------------------------------------

EventLoop::EventLoop(const LoopOptions& options)
    : opts_(options),
      monitor_(make_monitor(options.monitor)),
      timers_(std::make_unique<TimerQueue>()),
      notifier_(std::make_unique<Notifier>(this)) {
  notifier_reg_ = add_fd(notifier_->fd(), Events::kRead, notifier_.get());
  HandlerNode* n = notifier_reg_.node_;
  n->sticky = true;
  join_poll_list(n);
}

EventLoop::~EventLoop() {
  notifier_reg_.reset();
  // Bottom halves still queued: free the ones the loop owns, unhook the rest.
  BhNode* bh = bh_head_.exchange(nullptr, std::memory_order_acquire);
  while (bh) {
    BhNode* next = bh->next;
    uint32_t old = bh->flags.fetch_and(~uint32_t(kBhPending | kBhScheduled));
    if (old & (kBhDeleted | kBhOneShot)) free_bh_node(bh, old);
    bh = next;
  }
  for (HandlerNode* n : nodes_) delete n;
  for (PollerNode* n : pollers_) delete n;
}

bool EventLoop::in_loop_thread() const {
  std::thread::id owner = owner_.load(std::memory_order_acquire);
  return owner == std::thread::id() || owner == std::this_thread::get_id();
}

// ---- registration ---------------------------------------------------------------------------

FdRegistration EventLoop::add_fd(int fd, Events events, FdHandler* handler, bool external) {
  assert(in_loop_thread());
  auto* n = new HandlerNode;
  n->fd = fd;
  n->events = events;
  n->handler = handler;
  n->external = external;
  n->pollable = handler->can_poll();
  if (!monitor_->add(n, watched_events(*n, external_disabled()))) {
    delete n;
    return {};
  }
  nodes_.push_back(n);
  ++unpolled_count_;
  maybe_switch_monitor();
  return FdRegistration(this, n);
}

void EventLoop::update_events(HandlerNode* node, Events events) {
  assert(in_loop_thread());
  node->events = events;
  monitor_->modify(node, watched_events(*node, external_disabled()));
}

void EventLoop::remove_node(HandlerNode* node) {
  assert(in_loop_thread());
  // No poll_end() here: the handler may be half-destroyed (a registration is often a member of
  // its own handler). As in QEMU, a source re-enables its notifications when it is re-attached.
  node->poll_begun = false;
  if (node->in_poll_list) {
    leave_poll_list(node, false);
  }
  --unpolled_count_;
  monitor_->remove(node);
  node->deleted = true;
  if (walking_ > 0 || node->in_ready) {
    has_deleted_ = true;  // a walk may still hold a pointer to it; freed when the walk ends
  } else {
    nodes_.erase(std::find(nodes_.begin(), nodes_.end(), node));
    delete node;
  }
  maybe_switch_monitor();
}

void EventLoop::free_deleted_nodes() {
  has_deleted_ = false;
  std::erase_if(nodes_, [](HandlerNode* n) {
    if (!n->deleted) return false;
    delete n;
    return true;
  });
  std::erase_if(pollers_, [](PollerNode* n) {
    if (!n->deleted) return false;
    delete n;
    return true;
  });
}

void EventLoop::maybe_switch_monitor() {
  if (opts_.monitor != MonitorKind::kAuto) return;
  const size_t count = monitor_->size();
  const bool is_epoll = monitor_->name()[0] == 'e';
  std::unique_ptr<FdMonitor> next;
  if (!is_epoll && count >= opts_.auto_epoll_threshold) {
    next = make_epoll_monitor();
  } else if (is_epoll && count < opts_.auto_epoll_threshold / 2) {
    // Hysteresis: a port that adds and removes one fd around the threshold must not flip-flop.
    next = make_ppoll_monitor();
  } else {
    return;
  }
  for (HandlerNode* n : nodes_) {
    if (n->deleted) continue;
    Events watch = n->watched;
    monitor_->remove(n);
    next->add(n, watch);
  }
  monitor_ = std::move(next);
}

void EventLoop::disable_external() {
  assert(in_loop_thread());
  if (external_disable_cnt_++ > 0) return;
  for (HandlerNode* n : nodes_) {
    if (n->deleted || !n->external) continue;
    monitor_->modify(n, Events::kNone);
    // Give the source its notifications back; it is not polled while disabled.
    if (n->poll_begun) {
      n->poll_begun = false;
      n->handler->poll_end();
    }
  }
}

void EventLoop::enable_external() {
  assert(in_loop_thread());
  assert(external_disable_cnt_ > 0);
  if (--external_disable_cnt_ > 0) return;
  for (HandlerNode* n : nodes_) {
    if (!n->deleted && n->external) monitor_->modify(n, n->events);
  }
}

void EventLoop::set_poll_params(int64_t max_ns, int64_t grow, int64_t shrink) {
  assert(in_loop_thread());
  opts_.poll_max_ns = max_ns < 0 ? 0 : max_ns;
  opts_.poll_grow = grow;
  opts_.poll_shrink = shrink;
  PollParams p{opts_.poll_max_ns, grow, shrink};
  for (HandlerNode* n : poll_list_) n->window.clamp(p);
}

// ---- poll list ------------------------------------------------------------------------------

bool EventLoop::pollable_now(const HandlerNode* n) const {
  return !n->deleted && !(n->external && external_disabled());
}

void EventLoop::join_poll_list(HandlerNode* n) {
  if (!n->pollable || n->in_poll_list || n->deleted) return;
  n->in_poll_list = true;
  poll_list_.push_back(n);
  --unpolled_count_;
  n->poll_idle_deadline = now_ns() + opts_.poll_idle_ns;
  if (poll_started_ && pollable_now(n)) {
    n->poll_begun = true;
    n->handler->poll_begin();
  }
}

bool EventLoop::end_polling(HandlerNode* n) {
  if (!n->poll_begun) return false;
  n->poll_begun = false;
  n->handler->poll_end();
  // Work that arrived after the last poll() but before notifications came back would otherwise
  // wait for the next unrelated wake-up: check once more now that they are on.
  if (n->handler->poll()) {
    add_ready(n, 0, true);
    return true;
  }
  return false;
}

bool EventLoop::leave_poll_list(HandlerNode* n, bool final_check) {
  bool progress = final_check && end_polling(n);
  auto it = std::find(poll_list_.begin(), poll_list_.end(), n);
  *it = poll_list_.back();
  poll_list_.pop_back();
  n->in_poll_list = false;
  n->window.reset();
  ++unpolled_count_;
  return progress;
}

bool EventLoop::remove_idle_poll_handlers(int64_t now) {
  bool progress = false;
  // Backwards, so the swap-remove in leave_poll_list only moves entries already visited.
  for (size_t i = poll_list_.size(); i-- > 0;) {
    HandlerNode* n = poll_list_[i];
    if (!n->sticky && now >= n->poll_idle_deadline) progress |= leave_poll_list(n, true);
  }
  return progress;
}

int64_t EventLoop::poll_window() const {
  int64_t w = 0;
  for (const HandlerNode* n : poll_list_) {
    if (pollable_now(n)) w = std::max(w, n->window.ns());
  }
  for (const PollerNode* n : pollers_) {
    if (poller_active(n)) w = std::max(w, n->window.ns());
  }
  return w;
}

bool EventLoop::poll_set_started(bool started) {
  poll_started_ = started;
  bool progress = false;
  for (size_t i = 0; i < poll_list_.size(); ++i) {
    HandlerNode* n = poll_list_[i];
    if (!pollable_now(n)) continue;
    if (started && !n->poll_begun) {
      n->poll_begun = true;
      n->handler->poll_begin();
    } else if (!started) {
      progress |= end_polling(n);
    }
  }
  return progress;
}

bool EventLoop::run_poll_handlers_once(int64_t now) {
  bool progress = false;
  for (size_t i = 0; i < poll_list_.size(); ++i) {
    HandlerNode* n = poll_list_[i];
    if (!pollable_now(n)) continue;
    if (n->handler->poll()) {
      add_ready(n, 0, true);
      n->poll_idle_deadline = now + opts_.poll_idle_ns;
      progress = true;
    }
  }
  progress |= poll_pollers(true);
  return progress;
}

bool EventLoop::run_poll_handlers(int64_t max_ns) {
  poll_set_started(true);
  const int64_t start = now_ns();
  int64_t now = start;
  bool progress;
  do {
    progress = run_poll_handlers_once(now);
    now = now_ns();
  } while (!progress && now - start < max_ns);
  stats_.poll_ns_total += uint64_t(now - start);
  ++(progress ? stats_.poll_hits : stats_.poll_misses);
  return progress;
}

bool EventLoop::try_poll_mode(int64_t* timeout_ns) {
  // Checked on every blocking iteration, not only while polling: a handler whose window shrank
  // to zero must still leave the list, or the list would only ever grow.
  if (remove_idle_poll_handlers(now_ns())) {
    *timeout_ns = 0;
    return true;
  }
  int64_t max_ns = poll_window();
  // Never busy-poll past the next timer: it would fire late.
  if (*timeout_ns >= 0 && max_ns > *timeout_ns) max_ns = *timeout_ns;
  if (max_ns > 0 && run_poll_handlers(max_ns)) {
    *timeout_ns = 0;
    return true;
  }
  if (poll_started_ && poll_set_started(false)) {
    *timeout_ns = 0;
    return true;
  }
  return false;
}

void EventLoop::adjust_windows(int64_t block_ns) {
  const PollParams p{opts_.poll_max_ns, opts_.poll_grow, opts_.poll_shrink};
  for (HandlerNode* n : poll_list_) {
    if (n->in_ready) {
      n->window.on_event(block_ns, p);
    } else {
      n->window.on_idle(block_ns, p);
    }
  }
}

// ---- one iteration --------------------------------------------------------------------------

void EventLoop::add_ready(HandlerNode* n, uint32_t events, bool by_poll) {
  if (!n->in_ready) {
    n->in_ready = true;
    n->ready_next = ready_head_;
    ready_head_ = n;
  }
  n->ready_events |= events;
  n->ready_by_poll |= by_poll;
}

int64_t EventLoop::compute_timeout_ns() {
  if (bh_head_.load(std::memory_order_acquire) != nullptr) return 0;
  int64_t deadline = timers_->next_deadline();
  if (deadline < 0) return -1;
  int64_t delta = deadline - now_ns();
  return delta > 0 ? delta : 0;
}

void EventLoop::fd_wait(int64_t timeout_ns) {
  LoopReadySink sink(this);
  monitor_->wait(timeout_ns, sink);
  next_fd_check_ns_ = now_ns() + opts_.fd_check_interval_ns;
}

bool EventLoop::run_once(bool blocking) {
  ++stats_.iterations;
  ++walking_;
  for (PollerNode* n : pollers_) n->worked = false;
  const int64_t start = now_ns();
  int64_t timeout = blocking ? compute_timeout_ns() : 0;
  bool polled = false;
  if (opts_.poll_max_ns > 0) {
    if (blocking) {
      polled = try_poll_mode(&timeout);
    } else if (poll_started_) {
      // Sources in poll mode have their notifications off: a non-blocking pass must look.
      polled = run_poll_handlers_once(start);
    }
  }

  // An fd-less source cannot wake the loop: bound the sleep by its re-check period.
  if (timeout != 0 && !pollers_.empty()) timeout = bound_sleep_by_pollers(timeout);

  if (timeout != 0) {
    // notify_me protocol (Dekker-style, paired with notify()): announce the sleep, then look for
    // work once more. Either notify() sees notify_me_ and writes the eventfd, or we see its work.
    // Both sides use seq_cst stores and loads, which are totally ordered: that gives the full
    // barrier QEMU needs smp_mb() for, and TSan understands it (it does not model fences).
    notify_me_.store(true, std::memory_order_seq_cst);
    if (notified_.load(std::memory_order_seq_cst) ||
        bh_head_.load(std::memory_order_seq_cst) != nullptr) {
      timeout = 0;
    }
    if (timeout != 0) ++stats_.blocking_waits;
    fd_wait(timeout);
    notify_me_.store(false, std::memory_order_relaxed);
  } else if (!polled || (unpolled_count_ > 0 && start >= next_fd_check_ns_)) {
    // Busy-polling keeps finding work: still look at the fds nobody polls, now and then.
    if (polled) ++stats_.fd_checks;
    fd_wait(0);
  }

  // Accept the wake-up before running bottom halves, so a notify() racing with them is not lost.
  notified_.store(false, std::memory_order_seq_cst);

  bool progress = !pollers_.empty() && pollers_after_wait();

  if (opts_.poll_max_ns > 0) {
    // A handler whose fd fired is active: poll it from now on (QEMU's poll list). Joining before
    // the windows adapt lets this very event count, so the first burst already opens a window.
    for (HandlerNode* n = ready_head_; n; n = n->ready_next) {
      if (n->ready_events && pollable_now(n)) join_poll_list(n);
    }
    if (blocking) {
      const int64_t block_ns = now_ns() - start;
      adjust_windows(block_ns);
      adjust_poller_windows(block_ns);
    }
  }

  progress |= run_bhs();
  progress |= dispatch_ready();
  size_t fired = timers_->run_due(now_ns());
  stats_.timers_fired += fired;
  progress |= fired > 0;

  if (--walking_ == 0 && has_deleted_) free_deleted_nodes();
  return progress;
}

bool EventLoop::dispatch_ready() {
  bool progress = false;
  HandlerNode* n = ready_head_;
  ready_head_ = nullptr;
  const int64_t now = now_ns();
  while (n) {
    HandlerNode* next = n->ready_next;
    const uint32_t ev = n->ready_events;
    const bool by_poll = n->ready_by_poll;
    n->ready_next = nullptr;
    n->in_ready = false;
    n->ready_events = 0;
    n->ready_by_poll = false;
    if (pollable_now(n)) {
      if (ev && n->in_poll_list) n->poll_idle_deadline = now + opts_.poll_idle_ns;
      if (by_poll) {
        ++stats_.poll_events;
        n->handler->poll_ready();
        progress = true;
      }
      if (!n->deleted && (ev & uint32_t(Events::kRead))) {
        ++stats_.fd_events;
        n->handler->on_readable();
        progress = true;
      }
      if (!n->deleted && (ev & uint32_t(Events::kWrite))) {
        ++stats_.fd_events;
        n->handler->on_writable();
        progress = true;
      }
    }
    n = next;
  }
  return progress;
}

// ---- bottom halves and cross-thread calls ---------------------------------------------------

void EventLoop::push_bh(BhNode* bh) {
  BhNode* head = bh_head_.load(std::memory_order_relaxed);
  do {
    bh->next = head;
  } while (!bh_head_.compare_exchange_weak(head, bh, std::memory_order_seq_cst,
                                           std::memory_order_relaxed));
  notify();
}

bool EventLoop::run_bhs() {
  BhNode* list = bh_head_.exchange(nullptr, std::memory_order_acquire);
  if (!list) return false;
  // The list is LIFO; reverse it so bottom halves run in the order they were scheduled.
  BhNode* fifo = nullptr;
  while (list) {
    BhNode* next = list->next;
    list->next = fifo;
    fifo = list;
    list = next;
  }
  bool ran = false;
  while (fifo) {
    BhNode* next = fifo->next;
    // Clear PENDING before the call so the callback (or another thread) can re-schedule it.
    uint32_t old =
        fifo->flags.fetch_and(~uint32_t(kBhPending | kBhScheduled), std::memory_order_acq_rel);
    if ((old & kBhScheduled) && !(old & kBhDeleted)) {
      ++stats_.bhs_run;
      fifo->cb();
      ran = true;
    }
    if (old & (kBhDeleted | kBhOneShot)) free_bh_node(fifo, old);
    fifo = next;
  }
  return ran;
}

void EventLoop::notify() {
  notified_.store(true, std::memory_order_seq_cst);
  if (notify_me_.load(std::memory_order_seq_cst)) notifier_->wake();
}

void EventLoop::run_in_loop(std::function<void()> fn) {
  auto* bh = new OneShotBh;
  bh->fn = std::move(fn);
  bh->cb = Callback{[](void* c) { static_cast<OneShotBh*>(c)->fn(); }, bh};
  bh->flags.store(kBhOneShot | kBhPending | kBhScheduled, std::memory_order_relaxed);
  push_bh(bh);
}

void EventLoop::run_in_loop_sync(const std::function<void()>& fn) {
  if (owner_.load(std::memory_order_acquire) == std::this_thread::get_id()) {
    fn();
    return;
  }
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  run_in_loop([&] {
    fn();
    std::lock_guard<std::mutex> lk(mu);
    done = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lk(mu);
  cv.wait(lk, [&] { return done; });
}

void EventLoop::run() {
  owner_.store(std::this_thread::get_id(), std::memory_order_release);
  while (!stop_.load(std::memory_order_acquire)) run_once(true);
  owner_.store(std::thread::id(), std::memory_order_release);
}

void EventLoop::request_stop() {
  stop_.store(true, std::memory_order_release);
  notify();
}

LoopStats EventLoop::stats() const {
  LoopStats s = stats_;
  size_t live = 0;
  for (const HandlerNode* n : nodes_) live += n->deleted ? 0 : 1;
  s.handlers = live - 1;  // the notifier is the loop's own
  s.polled_handlers = poll_list_.size() - 1;
  for (const PollerNode* n : pollers_) s.pollers += n->deleted ? 0 : 1;
  s.poll_window_ns = poll_window();
  s.monitor = monitor_->name();
  return s;
}

}  // namespace uvs::ev
