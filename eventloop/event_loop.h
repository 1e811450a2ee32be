// SPDX-License-Identifier: MIT
// EventLoop: one thread's AioContext-like loop: fd handlers, adaptive busy-polling, timers, BHs.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "eventloop/callback.h"
#include "eventloop/fd_handler.h"
#include "eventloop/loop_stats.h"
#include "eventloop/poller.h"

namespace uvs::ev {

class EventLoop;
class FdMonitor;
struct HandlerNode;
struct PollerNode;
struct BhNode;
class TimerQueue;

/// Which fd monitor a loop uses.
enum class MonitorKind {
  kAuto,   ///< ppoll while few fds are registered, epoll above LoopOptions::auto_epoll_threshold
  kEpoll,  ///< always epoll: O(1) in the number of registered fds
  kPpoll,  ///< always ppoll: O(n), cheapest for a handful of fds
};

/// Tunables of one loop. Defaults follow QEMU's (poll-max-ns 32768, grow 2, shrink 2).
struct LoopOptions {
  MonitorKind monitor = MonitorKind::kAuto;
  int64_t poll_max_ns = 32768;  ///< 0 disables busy-polling
  int64_t poll_grow = 2;        ///< window multiplier on growth; 0 or 1 means the default 2
  int64_t poll_shrink = 2;      ///< window divisor on shrink; 0 resets the window to 0
  /// A polled handler with no event for this long leaves the poll list (QEMU: 7 s).
  int64_t poll_idle_ns = 7'000'000'000;
  /// While busy-polling keeps finding work, fds not on the poll list are still checked at least
  /// this often, so a busy virtqueue can never starve a tap fd or the control socket.
  int64_t fd_check_interval_ns = 50'000;
  /// kAuto switches to epoll at this many fds and back to ppoll below half of it. QEMU uses 64.
  size_t auto_epoll_threshold = 64;
};

/// RAII registration of an FdHandler. Destroying or reset()ing it unregisters the handler; from
/// then on the handler is never called again, even if it was ready in the current dispatch.
class FdRegistration {
 public:
  FdRegistration() = default;
  FdRegistration(FdRegistration&& o) noexcept;
  FdRegistration& operator=(FdRegistration&& o) noexcept;
  FdRegistration(const FdRegistration&) = delete;
  FdRegistration& operator=(const FdRegistration&) = delete;
  ~FdRegistration() { reset(); }

  /// Changes the readiness the handler wants. Loop thread only.
  void set_events(Events events);
  /// Unregisters now. Loop thread only; safe from inside the handler's own callback.
  void reset();
  bool valid() const { return node_ != nullptr; }

 private:
  friend class EventLoop;
  FdRegistration(EventLoop* loop, HandlerNode* node) : loop_(loop), node_(node) {}
  EventLoop* loop_ = nullptr;
  HandlerNode* node_ = nullptr;
};

/// RAII registration of a Poller. Destroying or reset()ing it unregisters the poller; from then
/// on it is never called again.
class PollerRegistration {
 public:
  PollerRegistration() = default;
  PollerRegistration(PollerRegistration&& o) noexcept;
  PollerRegistration& operator=(PollerRegistration&& o) noexcept;
  PollerRegistration(const PollerRegistration&) = delete;
  PollerRegistration& operator=(const PollerRegistration&) = delete;
  ~PollerRegistration() { reset(); }

  /// Unregisters now. Loop thread only; safe from inside the poller's own poll().
  void reset();
  bool valid() const { return node_ != nullptr; }

 private:
  friend class EventLoop;
  PollerRegistration(EventLoop* loop, PollerNode* node) : loop_(loop), node_(node) {}
  EventLoop* loop_ = nullptr;
  PollerNode* node_ = nullptr;
};

/// The loop. Everything except notify(), request_stop(), run_in_loop*() and BottomHalf::schedule()
/// must be called on the loop's thread (or before the loop first runs).
class EventLoop {
 public:
  /// Creates the loop's epoll/eventfd resources. Throws std::system_error when the kernel refuses
  /// them (fd exhaustion): that is start-up, never the data path.
  explicit EventLoop(const LoopOptions& options = {});
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /// Registers `handler` for `events` on `fd`. `external` marks a guest-triggered source that
  /// disable_external() silences. An fd that epoll refuses (EPERM: a regular file, a
  /// here-document stdin) is reported ready on every iteration, as Fam Zheng's QEMU series that
  /// moved the iohandler fds onto epoll does for the same fds.
  /// The handler and fd must outlive the registration.
  [[nodiscard]] FdRegistration add_fd(int fd, Events events, FdHandler* handler,
                                      bool external = false);

  /// Registers a source with no fd. Its poll() runs in every busy-poll phase and once after
  /// every wait; while it finds work the loop does not sleep, and while it finds none the loop
  /// sleeps at most the poller's re-check period (doubling from idle_min_ns to idle_max_ns)
  /// unless the poller enters interrupt mode. The poller must outlive the registration.
  [[nodiscard]] PollerRegistration add_poller(Poller* poller, const PollerOptions& options = {});

  /// One iteration: busy-poll (if enabled and blocking), wait for fds or the next timer, then
  /// dispatch bottom halves, ready handlers and due timers. Returns whether any callback ran.
  bool run_once(bool blocking);
  /// Runs iterations until request_stop(). Marks the calling thread as the loop's thread.
  void run();
  /// Asks run() to return after the current iteration. Any thread.
  void request_stop();
  bool stop_requested() const { return stop_.load(std::memory_order_acquire); }

  /// Wakes the loop if it is, or is about to be, blocked. Any thread. Costs no syscall while the
  /// loop is busy-polling (notify_me protocol).
  void notify();

  /// Schedules `fn` to run once on the loop thread. Any thread; allocates (control path only).
  void run_in_loop(std::function<void()> fn);
  /// Runs `fn` on the loop thread and waits for it. Runs inline when called on the loop thread.
  /// The loop must be running (or run by the caller later) or this never returns.
  void run_in_loop_sync(const std::function<void()>& fn);

  /// Silences guest-triggered ("external") handlers until the matching enable_external(): their
  /// fds are not reported and they are not polled. Nests. Loop thread only.
  void disable_external();
  void enable_external();
  bool external_disabled() const { return external_disable_cnt_ > 0; }

  /// Changes the polling tunables at run time. Loop thread only.
  void set_poll_params(int64_t max_ns, int64_t grow, int64_t shrink);
  const LoopOptions& options() const { return opts_; }

  /// A snapshot of the counters. Loop thread only (use run_in_loop_sync from elsewhere).
  LoopStats stats() const;

  /// True on the thread currently running this loop, or when no thread runs it yet.
  bool in_loop_thread() const;

 private:
  friend class FdRegistration;
  friend class PollerRegistration;
  friend class Timer;
  friend class BottomHalf;
  friend struct LoopReadySink;
  class Notifier;

  void remove_node(HandlerNode* node);
  void update_events(HandlerNode* node, Events events);
  void maybe_switch_monitor();
  void add_ready(HandlerNode* node, uint32_t events, bool by_poll);

  int64_t compute_timeout_ns();
  bool try_poll_mode(int64_t* timeout_ns);
  bool run_poll_handlers(int64_t max_ns);
  bool run_poll_handlers_once(int64_t now);
  bool poll_set_started(bool started);
  bool end_polling(HandlerNode* node);
  bool pollable_now(const HandlerNode* node) const;
  bool remove_idle_poll_handlers(int64_t now);
  void adjust_windows(int64_t block_ns);
  int64_t poll_window() const;
  void join_poll_list(HandlerNode* node);
  bool leave_poll_list(HandlerNode* node, bool final_check);
  void fd_wait(int64_t timeout_ns);
  bool dispatch_ready();
  bool run_bhs();
  void push_bh(BhNode* bh);
  void free_deleted_nodes();
  void remove_poller(PollerNode* node);
  bool poller_active(const PollerNode* node) const;
  bool poll_pollers(bool busy_phase);
  int64_t bound_sleep_by_pollers(int64_t timeout_ns);
  bool pollers_after_wait();
  void adjust_poller_windows(int64_t block_ns);

  LoopOptions opts_;
  std::unique_ptr<FdMonitor> monitor_;
  std::unique_ptr<TimerQueue> timers_;
  std::unique_ptr<Notifier> notifier_;
  FdRegistration notifier_reg_;

  std::vector<HandlerNode*> nodes_;      // all live and deleted-but-not-freed nodes
  std::vector<HandlerNode*> poll_list_;  // nodes being busy-polled
  std::vector<PollerNode*> pollers_;     // fd-less sources, including deleted-but-not-freed
  HandlerNode* ready_head_ = nullptr;    // intrusive list filled by fd_wait and polling
  int walking_ = 0;                      // >0 while nodes_ or poll_list_ is being walked
  bool has_deleted_ = false;
  bool poll_started_ = false;
  int external_disable_cnt_ = 0;
  size_t unpolled_count_ = 0;  // registered nodes not on the poll list
  int64_t next_fd_check_ns_ = 0;

  std::atomic<BhNode*> bh_head_{nullptr};
  std::atomic<bool> notify_me_{false};
  std::atomic<bool> notified_{false};
  std::atomic<bool> stop_{false};
  std::atomic<std::thread::id> owner_{};

  LoopStats stats_;
};

}  // namespace uvs::ev
