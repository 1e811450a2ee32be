// SPDX-License-Identifier: MIT
// PackedVirtq: the device side of one packed virtqueue (virtio 1.1 §2.7): descriptor ring with
// avail/used flags and wrap counters, chains and indirect tables, used descriptors by buffer id,
// and event suppression both ways.
#pragma once

#include <sys/uio.h>

#include <cstdint>

#include "netback/vhost/guest_memory.h"
#include "netback/vhost/guest_writer.h"
#include "netback/common/virtio_defs.h"
#include "netback/vhost/virtq_chain.h"

namespace uvs::netback {

class ChainSegments;

/// Host pointers and parameters of a packed ring, already translated and checked by the caller.
/// vhost-user's SET_VRING_ADDR carries the descriptor ring as desc_user_addr, the driver event
/// suppression area as avail_user_addr and the device's as used_user_addr.
struct PackedLayout {
  void* desc = nullptr;          ///< descriptor ring, 16 * size bytes
  void* driver_event = nullptr;  ///< virtio::PackedEvent the driver writes
  void* device_event = nullptr;  ///< virtio::PackedEvent we write
  uint32_t size = 0;             ///< 1 .. virtio::kMaxPackedQueueSize (any, not only 2^n)
  uint64_t desc_gpa = 0;         ///< guest-physical address of the descriptor ring (dirty log)
};

/// A ring position: entry index and the wrap counter that goes with it.
struct PackedPos {
  uint16_t idx = 0;
  bool wrap = true;  ///< virtio 1.1 §2.7: both ring wrap counters start at 1
};

/// Device side of a packed virtqueue, with the same data-path operations as Virtq so the
/// net_datapath bursts work on either. Loop thread only; data-path calls are noexcept and never
/// allocate. Descriptors are read once into locals before use (the driver may rewrite them
/// concurrently), every guest address goes through GuestMemory, and every store into guest
/// memory goes through a GuestWriter (the dirty log).
///
/// Chains may complete out of order (TX drops are returned before the frames lent to the
/// switch): used descriptors are written in completion order, each naming its buffer id and
/// skipping the entries its chain occupied (§2.7 "Next Flag: Descriptor Chaining"). The first
/// used descriptor of a burst gets its flags last, in flush(), so the driver sees the burst at
/// once (§2.7 "Multi-buffer requests").
class PackedVirtq {
 public:
  /// Starts using the ring at `layout`; `avail` is where the next available descriptor is
  /// expected (SET_VRING_BASE), and used descriptors are written from there too (no chain is in
  /// flight across a stop). Returns false (and stays not ready) when a pointer is null or
  /// misaligned ("Structure Size and Alignment": ring 16, event structures 4), the size is outside 1..32768, or
  /// avail.idx >= size. `mem` must outlive the setup.
  bool setup(const GuestMemory* mem, const PackedLayout& layout, PackedPos avail,
             const VirtqFeatures& features) noexcept;
  /// Moves a running ring to new host addresses keeping every position (guest memory table
  /// replaced). Same checks as setup(); on failure the ring is reset.
  bool relocate(const PackedLayout& layout) noexcept;
  /// Changes the honoured features on a running ring (SET_FEATURES while started).
  void set_features(const VirtqFeatures& features) noexcept { features_ = features; }
  /// Where this ring's stores are logged during a migration: buffers always to `log` (marked
  /// while it is active); with `log_ring` (VHOST_VRING_F_LOG) also used descriptors (at
  /// layout.desc_gpa plus their offset) and the device event structure (at `device_event_gpa`,
  /// the log_guest_addr QEMU gives for a packed ring). Kept by relocate(), cleared by reset().
  void set_log(DirtyLog* log, bool log_ring, uint64_t device_event_gpa) noexcept;
  /// Forgets the ring and its log settings.
  void reset() noexcept;
  bool ready() const noexcept { return desc_ != nullptr; }

  /// Whether the descriptor at the next position is available. Side-effect free; false when not
  /// ready.
  bool pending() const noexcept;

  /// Pops the next chain (direct descriptors linked by NEXT, or one INDIRECT descriptor) like
  /// Virtq::pop(): kOk, kEmpty, a per-chain error that consumed the chain (push it with length
  /// 0), or a fatal one. The buffer id is the last descriptor's.
  VirtqError pop(iovec* iov, uint32_t capacity, VirtqChain* chain,
                 uint64_t* gpas = nullptr) noexcept;

  /// Where the next pop() reads (see rewind()).
  using Mark = PackedPos;
  Mark avail_mark() const noexcept { return avail_; }
  /// Goes back to `m` (taken since the last flush, with nothing pushed for the chains after it):
  /// they will be popped again.
  void rewind(Mark m) noexcept { avail_ = m; }

  /// Writes a used descriptor for chain `r` (its id; `len` bytes written) at the next used
  /// position and skips r.ndescs entries. Not visible to the driver until flush().
  void push(UsedRef r, uint32_t len) noexcept;

  /// Publishes the pushed descriptors (the first one's flags, release). Returns whether the
  /// driver wants an interrupt: its event suppression structure says ENABLE, or DESC (with
  /// EVENT_IDX) naming a position this flush used; NOTIFY_ON_EMPTY forces one when no buffer is
  /// left. False if nothing was pushed.
  bool flush() noexcept;

  /// Asks the driver not to kick (device event flags DISABLE) while busy-polling.
  void disable_notifications() noexcept;
  /// Asks for kicks again (DESC at the next position with EVENT_IDX, else ENABLE), then after a
  /// full barrier returns pending(), as Virtq::enable_notifications().
  bool enable_notifications() noexcept;
  /// With EVENT_IDX and notifications enabled, moves the device event offset to the next
  /// position; returns pending() after a full barrier.
  bool update_avail_event() noexcept;

  /// The writer for device-writable buffers of this ring.
  const GuestWriter& buffer_writer() const noexcept { return buffer_writer_; }
  /// Writes the gathered dirty-page marks into the log (end of every burst).
  void flush_log() noexcept { log_batch_.flush(); }
  /// A store was logged outside the dirty log: the port must break.
  bool log_overflowed() const noexcept { return log_batch_.overflowed(); }

  /// Next available position the device will read.
  PackedPos avail_pos() const noexcept { return avail_; }
  /// Next used position the device will write.
  PackedPos used_pos() const noexcept { return used_; }
  uint32_t size() const noexcept { return size_; }
  const VirtqFeatures& features() const noexcept { return features_; }

  /// vhost-user GET_VRING_BASE value for a packed ring: bits 0-14 the next avail index, bit 15
  /// its wrap counter, bits 16-30 and 31 the same for the used position (QEMU's encoding).
  uint32_t vring_base() const noexcept {
    return encode(avail_) | (static_cast<uint32_t>(encode(used_)) << 16);
  }
  /// The 16-bit position encoding (index | wrap << 15).
  static uint16_t encode(PackedPos p) noexcept {
    return static_cast<uint16_t>(p.idx | (p.wrap ? 0x8000 : 0));
  }
  static PackedPos decode(uint16_t v) noexcept {
    return {static_cast<uint16_t>(v & 0x7fff), (v & 0x8000) != 0};
  }

 private:
  VirtqError walk_indirect(const virtio::PackedDesc& d, ChainSegments& segs) noexcept;
  void advance(PackedPos* p, uint32_t n) const noexcept {
    uint32_t i = p->idx + n;
    if (i >= size_) {
      i -= size_;
      p->wrap = !p->wrap;
    }
    p->idx = static_cast<uint16_t>(i);
  }
  bool is_avail(uint16_t flags) const noexcept {
    return ((flags & virtio::kPackedDescFAvail) != 0) == avail_.wrap &&
           ((flags & virtio::kPackedDescFUsed) != 0) != avail_.wrap;
  }
  uint64_t desc_gpa(uint32_t i) const noexcept { return desc_gpa_ + uint64_t{16} * i; }
  void write_device_event(uint16_t flags) noexcept;

  const GuestMemory* mem_ = nullptr;
  virtio::PackedDesc* desc_ = nullptr;
  const virtio::PackedEvent* driver_event_ = nullptr;
  virtio::PackedEvent* device_event_ = nullptr;
  uint32_t size_ = 0;
  uint64_t desc_gpa_ = 0;
  PackedPos avail_;
  PackedPos used_;            // next used position (published or not)
  PackedPos published_;       // used position at the last flush
  uint16_t first_flags_ = 0;  // flags of the burst's first used descriptor, stored by flush()
  uint16_t first_slot_ = 0;
  bool unpublished_ = false;
  bool notifications_enabled_ = true;
  VirtqFeatures features_;
  // This ring's dirty-log marks: the ring is served by one lane, so its batch is that thread's.
  DirtyLogBatch log_batch_;
  GuestWriter buffer_writer_;  // buffers: logs while the log is active
  GuestWriter ring_writer_;    // used descriptors, device event: only with VHOST_VRING_F_LOG
  uint64_t device_event_gpa_ = 0;
};

}  // namespace uvs::netback
