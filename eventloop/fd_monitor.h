// SPDX-License-Identifier: MIT
// FdMonitor: the interface over the two ways a loop waits for fds (epoll, ppoll).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "eventloop/fd_handler.h"

namespace uvs::ev {

struct HandlerNode;

/// Receives each ready node from FdMonitor::wait.
class ReadySink {
 public:
  virtual void on_ready(HandlerNode* node, uint32_t events) = 0;

 protected:
  ~ReadySink() = default;
};

/// Watches fds for a loop. Loop thread only. `watch` is the mask to watch now (already gated by
/// external disable), so the monitor never needs to know why a mask changed.
class FdMonitor {
 public:
  virtual ~FdMonitor() = default;
  /// Starts watching. Returns false when the kernel refuses the fd for a reason other than EPERM.
  virtual bool add(HandlerNode* node, Events watch) = 0;
  virtual void modify(HandlerNode* node, Events watch) = 0;
  virtual void remove(HandlerNode* node) = 0;
  /// Waits up to `timeout_ns` (-1: forever, 0: just check) and reports ready nodes to `sink`.
  /// Returns the number reported. EINTR counts as a wake-up with nothing ready.
  virtual int wait(int64_t timeout_ns, ReadySink& sink) = 0;
  virtual size_t size() const = 0;
  virtual const char* name() const = 0;
};

std::unique_ptr<FdMonitor> make_epoll_monitor();
std::unique_ptr<FdMonitor> make_ppoll_monitor();

}  // namespace uvs::ev
