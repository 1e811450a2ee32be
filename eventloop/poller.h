// SPDX-License-Identifier: MIT
// Poller: a source of work with no fd to wait on, polled by the loop and re-checked when idle.
#pragma once

#include <cstdint>

namespace uvs::ev {

/// A source the loop must look at itself because nothing wakes it: a DPDK RX queue, a
/// vhost-user ring whose frontend passed no kick fd (VHOST_USER_VRING_NOFD_MASK). Modelled on
/// Seastar's reactor pollfn: `poll()` does the work, and the source may offer an interrupt mode
/// so that an idle loop can sleep. Every method is called on the loop's thread.
class Poller {
 public:
  virtual ~Poller() = default;

  /// Does one bounded round of work (one burst) and returns whether it found any. Called in the
  /// loop's busy-poll phase and once after every wait. Must not block.
  virtual bool poll() = 0;

  /// The loop is about to sleep. Return true if the source armed a wake-up that reaches this
  /// loop (an RX-interrupt fd registered on it, or a notify() from another thread) and has no
  /// work pending, so the loop may sleep without bound on its behalf. The default, false, makes
  /// the loop wake to re-check the source within PollerOptions::idle_max_ns.
  virtual bool try_enter_interrupt_mode() { return false; }

  /// The loop woke after try_enter_interrupt_mode() returned true: disarm the wake-up.
  virtual void exit_interrupt_mode() {}
};

/// How one poller is re-checked while it finds no work.
struct PollerOptions {
  /// The first re-check period after work stops. Linux's default timer slack (50 us) makes
  /// shorter sleeps cost a syscall without being shorter.
  int64_t idle_min_ns = 50'000;
  /// The bound the period doubles toward: the worst added latency of the first frame after a
  /// silence, and the number of idle wake-ups (1 ms: 1000 a second).
  int64_t idle_max_ns = 1'000'000;
  /// A guest-triggered source, silenced by EventLoop::disable_external() like an external fd.
  bool external = false;
};

}  // namespace uvs::ev
