// SPDX-License-Identifier: MIT
// Vring: the control-plane state of one vhost-user virtqueue (size, base, addresses, kick/call
// eventfds, started/enabled) around its data-path Virtq.
#pragma once

#include <cstdint>

#include "netback/vhost/packed_virtq.h"
#include "netback/vhost/vhost_user_proto.h"
#include "netback/vhost/virtq.h"

namespace uvs::netback {

/// One vring as the vhost-user messages configure it (vhost-user.rst "Ring states"). The device
/// owns these; the port registers the kick fd with its loop while the ring is running.
struct Vring {
  uint32_t num = 0;         ///< SET_VRING_NUM (0: not set)
  /// SET_VRING_BASE: where to start. Split: the next avail index (bits 0-15). Packed: the next
  /// descriptor index (bits 0-14) and its wrap counter (bit 15); vhost-user.rst "Vring
  /// descriptor indices for packed virtqueues".
  uint32_t base = 0;
  /// Used index when GET_VRING_BASE last stopped the ring (packed: index | wrap counter << 15).
  uint16_t stop_used = 0;
  bool has_addr = false;
  vu::VringAddr addr{};     ///< SET_VRING_ADDR (frontend virtual addresses)
  int kick_fd = -1;         ///< owned; -1 with kick_nofd means "poll, no eventfd"
  bool kick_nofd = false;
  int call_fd = -1;         ///< owned; -1: never interrupt
  bool started = false;     ///< SET_VRING_KICK received (and the ring translated) until stopped
  bool enabled = false;     ///< SET_VRING_ENABLE state, tracked while stopped too
  bool packed = false;      ///< the ring in use is `pvq` (VIRTIO_F_RING_PACKED at start)
  Virtq vq;                 ///< split layout
  PackedVirtq pvq;          ///< packed layout

  /// Set up (in the layout in use).
  bool ready() const noexcept { return packed ? pvq.ready() : vq.ready(); }
  /// Started, enabled and set up: the data path may use the ring.
  bool running() const noexcept { return started && enabled && ready(); }

  /// Calls `f` with the ring in use (the data path is a template over the ring layout) and
  /// returns what it returns.
  template <typename F>
  decltype(auto) with_ring(F&& f) noexcept {
    return packed ? f(pvq) : f(vq);
  }
  /// The driver made buffers available that were not popped (FdHandler::poll()).
  bool pending() const noexcept { return packed ? pvq.pending() : vq.pending(); }
  /// disable_notifications() / enable_notifications() / update_avail_event() of the ring in
  /// use (see Virtq).
  void disable_notifications() noexcept {
    with_ring([](auto& q) { q.disable_notifications(); });
  }
  bool enable_notifications() noexcept {
    return with_ring([](auto& q) { return q.enable_notifications(); });
  }
  bool update_avail_event() noexcept {
    return with_ring([](auto& q) { return q.update_avail_event(); });
  }

  /// Signals the driver through the call eventfd (no-op without one). Never blocks: eventfd
  /// writes only block at a counter of 2^64-2. Returns whether a write happened.
  bool signal() noexcept;

  /// Reads (resets) the kick eventfd counter. Returns false if there was nothing to read.
  /// Call only when the loop reported the fd readable (the fd may be blocking).
  bool drain_kick() noexcept;

  /// Stops the ring (GET_VRING_BASE, reset, disconnect) and closes its kick and call fds.
  /// Keeps num/base/addr and the enabled flag.
  void stop() noexcept;

  /// Back to the state of a fresh connection.
  void reset() noexcept;

  /// Replaces the kick/call fd, closing the old one. `fd` may be -1.
  void set_kick(int fd, bool nofd) noexcept;
  void set_call(int fd) noexcept;
};

}  // namespace uvs::netback
