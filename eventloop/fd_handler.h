// SPDX-License-Identifier: MIT
// FdHandler: what a source of events (virtqueue, tap fd, socket, notifier) implements for the loop.
#pragma once

#include <cstdint>

namespace uvs::ev {

/// Which readiness a handler wants reported. Level-triggered: reported while it stays true.
enum class Events : uint32_t { kNone = 0, kRead = 1, kWrite = 2, kReadWrite = 3 };

constexpr Events operator|(Events a, Events b) {
  return Events(uint32_t(a) | uint32_t(b));
}
constexpr bool has(Events set, Events e) {
  return (uint32_t(set) & uint32_t(e)) != 0;
}

/// A source of events registered with an EventLoop. Every method is called on the loop's thread.
///
/// The polling hooks follow QEMU's split of the poll check from the ready handler (commit
/// 826cc324, "aio-posix: split poll check from ready handler"): `poll()` only *checks* and must
/// have no side effects, so the time the loop spends busy-polling measures waiting and never the
/// handler's own work; the work happens in `poll_ready()`, which the loop calls during dispatch.
class FdHandler {
 public:
  virtual ~FdHandler() = default;

  /// The fd is readable (or hung up / in error: read to find out).
  virtual void on_readable() {}
  /// The fd is writable.
  virtual void on_writable() {}

  /// Whether this handler can be busy-polled. Queried once, at registration.
  virtual bool can_poll() const { return false; }
  /// Side-effect-free readiness check (e.g. "did the avail index move?").
  virtual bool poll() { return false; }
  /// Called in dispatch after poll() returned true.
  virtual void poll_ready() {}
  /// Polling starts: suppress the source's notifications (e.g. set VRING_USED_F_NO_NOTIFY).
  virtual void poll_begin() {}
  /// Polling ends: re-enable notifications. The loop calls poll() once more afterwards to close
  /// the race where work arrived after the last check but before notifications came back.
  virtual void poll_end() {}
};

}  // namespace uvs::ev
