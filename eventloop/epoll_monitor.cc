// SPDX-License-Identifier: MIT
// EpollMonitor: fd waiting in O(1) per registered fd, with nanosecond timeouts via epoll_pwait2.
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>
#include <vector>

#include "eventloop/clock.h"
#include "eventloop/fd_monitor.h"
#include "eventloop/handler_node.h"

namespace uvs::ev {
namespace {

constexpr size_t kInEpoll = 1;
constexpr size_t kNotInEpoll = ~size_t{0};
// Ready events taken per wait; more stay pending (level-triggered) for the next iteration.
constexpr int kMaxEvents = 128;

uint32_t to_epoll(Events e) {
  uint32_t m = 0;
  if (has(e, Events::kRead)) m |= EPOLLIN | EPOLLRDHUP;
  if (has(e, Events::kWrite)) m |= EPOLLOUT;
  return m;
}

class EpollMonitor final : public FdMonitor {
 public:
  EpollMonitor() : epfd_(epoll_create1(EPOLL_CLOEXEC)) {
    if (epfd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  }
  ~EpollMonitor() override { close(epfd_); }

  bool add(HandlerNode* node, Events watch) override {
    node->watched = Events::kNone;
    node->monitor_slot = kNotInEpoll;
    node->always_ready = false;
    modify(node, watch);
    if (node->monitor_slot == kNotInEpoll && watch != Events::kNone && !node->always_ready) {
      return false;
    }
    ++count_;
    return true;
  }

  void modify(HandlerNode* node, Events watch) override {
    if (node->always_ready) {
      node->watched = watch;
      return;
    }
    // A node watching nothing leaves the epoll set entirely: epoll reports EPOLLHUP/EPOLLERR even
    // for an empty mask, and a hung-up fd of a silenced handler would otherwise spin the loop.
    if (watch == Events::kNone) {
      if (node->monitor_slot == kInEpoll) epoll_ctl(epfd_, EPOLL_CTL_DEL, node->fd, nullptr);
      node->monitor_slot = kNotInEpoll;
      node->watched = watch;
      return;
    }
    epoll_event ev{};
    ev.events = to_epoll(watch);
    ev.data.ptr = node;
    int op = node->monitor_slot == kInEpoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(epfd_, op, node->fd, &ev) == 0) {
      node->monitor_slot = kInEpoll;
    } else if (errno == EPERM) {
      // Regular files and here-document stdin cannot be in an epoll set (epoll_ctl fails with
      // EPERM; QEMU's epoll iohandler series special-cases them the same way). They never block,
      // so they are reported ready on every wait instead.
      node->always_ready = true;
      always_.push_back(node);
    } else {
      node->watched = Events::kNone;
      return;
    }
    node->watched = watch;
  }

  void remove(HandlerNode* node) override {
    if (node->always_ready) {
      always_.erase(std::find(always_.begin(), always_.end(), node));
      node->always_ready = false;
    } else if (node->monitor_slot == kInEpoll) {
      epoll_ctl(epfd_, EPOLL_CTL_DEL, node->fd, nullptr);
    }
    node->monitor_slot = kNotInEpoll;
    node->watched = Events::kNone;
    --count_;
  }

  int wait(int64_t timeout_ns, ReadySink& sink) override {
    int reported = 0;
    for (HandlerNode* n : always_) {
      if (n->watched != Events::kNone) {
        sink.on_ready(n, uint32_t(n->watched));
        ++reported;
      }
    }
    if (reported) timeout_ns = 0;

    epoll_event evs[kMaxEvents];
    timespec ts;
    int n = epoll_pwait2(epfd_, evs, kMaxEvents, timeout_timespec(timeout_ns, &ts), nullptr);
    for (int i = 0; i < n; ++i) {
      auto* node = static_cast<HandlerNode*>(evs[i].data.ptr);
      uint32_t e = 0;
      const uint32_t r = evs[i].events;
      // Errors and hang-ups are delivered as readability: the handler's read finds out what
      // happened, which is how a peer's close reaches the port.
      if (r & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) e |= uint32_t(Events::kRead);
      if (r & (EPOLLOUT | EPOLLHUP | EPOLLERR)) e |= uint32_t(Events::kWrite);
      e &= uint32_t(node->watched);
      if (e) {
        sink.on_ready(node, e);
        ++reported;
      }
    }
    return reported;
  }

  size_t size() const override { return count_; }
  const char* name() const override { return "epoll"; }

 private:
  int epfd_;
  size_t count_ = 0;
  std::vector<HandlerNode*> always_;
};

}  // namespace

std::unique_ptr<FdMonitor> make_epoll_monitor() {
  return std::make_unique<EpollMonitor>();
}

}  // namespace uvs::ev
