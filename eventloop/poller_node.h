// SPDX-License-Identifier: MIT
// PollerNode: the loop's private bookkeeping for one registered fd-less Poller.
#pragma once

#include <cstdint>

#include "eventloop/poll_window.h"
#include "eventloop/poller.h"

namespace uvs::ev {

/// One poller registration. Owned by the EventLoop; freed only when no walk is in progress.
struct PollerNode {
  Poller* poller = nullptr;
  PollerOptions opts;
  bool deleted = false;
  bool worked = false;        ///< poll() found work in the current iteration
  bool in_interrupt = false;  ///< try_enter_interrupt_mode() succeeded for the current wait
  int64_t idle_ns = 0;        ///< the next re-check period; 0 while work keeps coming
  PollWindow window;          ///< busy-poll window, adapted as for polled fd handlers
};

}  // namespace uvs::ev
