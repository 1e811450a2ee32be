// SPDX-License-Identifier: MIT
// HandlerNode: the loop's private bookkeeping for one registered fd handler.
#pragma once

#include <cstddef>
#include <cstdint>

#include "eventloop/fd_handler.h"
#include "eventloop/poll_window.h"

namespace uvs::ev {

/// One registration. Owned by the EventLoop; freed only when no walk over the handler lists is
/// in progress, so a pointer taken during dispatch stays valid even if the handler is removed.
struct HandlerNode {
  int fd = -1;
  Events events = Events::kNone;
  FdHandler* handler = nullptr;
  bool external = false;
  bool pollable = false;
  bool deleted = false;
  bool always_ready = false;  ///< epoll refused the fd (EPERM): report it ready every iteration
  bool sticky = false;        ///< never leaves the poll list (the loop's own notifier)

  // Busy-polling state.
  bool in_poll_list = false;
  bool poll_begun = false;         ///< poll_begin() called without a matching poll_end() yet
  int64_t poll_idle_deadline = 0;  ///< leave the poll list if no event by then
  PollWindow window;

  // Ready list (filled by the fd wait and by polling, drained by dispatch).
  HandlerNode* ready_next = nullptr;
  bool in_ready = false;
  bool ready_by_poll = false;
  uint32_t ready_events = 0;

  Events watched = Events::kNone;    ///< what the fd monitor watches now (set by the monitor)
  size_t monitor_slot = ~size_t{0};  ///< the fd monitor's own index (ppoll slot, epoll membership)
};

/// The readiness mask the monitor should watch for `node` right now.
inline Events watched_events(const HandlerNode& node, bool external_disabled) {
  if (node.deleted || (node.external && external_disabled)) return Events::kNone;
  return node.events;
}

}  // namespace uvs::ev
