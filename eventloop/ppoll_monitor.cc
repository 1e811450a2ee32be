// SPDX-License-Identifier: MIT
// PpollMonitor: fd waiting with ppoll over a persistent pollfd array; cheapest for a few fds.
#include <errno.h>
#include <poll.h>

#include <vector>

#include "eventloop/clock.h"
#include "eventloop/fd_monitor.h"
#include "eventloop/handler_node.h"

namespace uvs::ev {
namespace {

short to_poll(Events e) {
  short m = 0;
  if (has(e, Events::kRead)) m |= POLLIN | POLLRDHUP;
  if (has(e, Events::kWrite)) m |= POLLOUT;
  return m;
}

class PpollMonitor final : public FdMonitor {
 public:
  bool add(HandlerNode* node, Events watch) override {
    node->always_ready = false;
    node->monitor_slot = pfds_.size();
    pfds_.push_back(pollfd{-1, 0, 0});
    nodes_.push_back(node);
    modify(node, watch);
    return true;
  }

  void modify(HandlerNode* node, Events watch) override {
    pollfd& p = pfds_[node->monitor_slot];
    // A negative fd makes ppoll skip the entry, so a silenced handler's hang-up is not reported.
    p.fd = watch == Events::kNone ? -1 : node->fd;
    p.events = to_poll(watch);
    node->watched = watch;
  }

  void remove(HandlerNode* node) override {
    // Swap-remove keeps removal O(1); slots are private to this monitor.
    size_t slot = node->monitor_slot;
    size_t last = pfds_.size() - 1;
    if (slot != last) {
      pfds_[slot] = pfds_[last];
      nodes_[slot] = nodes_[last];
      nodes_[slot]->monitor_slot = slot;
    }
    pfds_.pop_back();
    nodes_.pop_back();
    node->monitor_slot = ~size_t{0};
    node->watched = Events::kNone;
  }

  int wait(int64_t timeout_ns, ReadySink& sink) override {
    timespec ts;
    int n = ppoll(pfds_.data(), pfds_.size(), timeout_timespec(timeout_ns, &ts), nullptr);
    int reported = 0;
    for (size_t i = 0; n > 0 && i < pfds_.size(); ++i) {
      const short r = pfds_[i].revents;
      if (!r) continue;
      --n;
      uint32_t e = 0;
      if (r & (POLLIN | POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) e |= uint32_t(Events::kRead);
      if (r & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) e |= uint32_t(Events::kWrite);
      e &= uint32_t(nodes_[i]->watched);
      if (e) {
        sink.on_ready(nodes_[i], e);
        ++reported;
      }
    }
    return reported;
  }

  size_t size() const override { return pfds_.size(); }
  const char* name() const override { return "ppoll"; }

 private:
  std::vector<pollfd> pfds_;
  std::vector<HandlerNode*> nodes_;
};

}  // namespace

std::unique_ptr<FdMonitor> make_ppoll_monitor() {
  return std::make_unique<PpollMonitor>();
}

}  // namespace uvs::ev
