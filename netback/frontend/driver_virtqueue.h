// SPDX-License-Identifier: MIT
// DriverVirtqueue: the driver (guest) side of one virtqueue living in GuestRam, split or packed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "netback/frontend/driver_packed_ring.h"
#include "netback/frontend/frontend_error.h"
#include "netback/frontend/guest_ram.h"
#include "netback/common/virtio_defs.h"

namespace uvs::frontend {

/// Where the three parts of a ring live (guest-physical). For a packed ring: the descriptor
/// ring, the driver event suppression structure (avail_gpa) and the device's (used_gpa), as
/// vhost-user's SET_VRING_ADDR carries them.
struct RingPlacement {
  uint64_t desc_gpa = 0;
  uint64_t avail_gpa = 0;
  uint64_t used_gpa = 0;
};

/// One buffer of a chain, as the driver describes it.
struct DescSegment {
  uint64_t gpa = 0;
  uint32_t len = 0;
  bool device_writable = false;
};

/// One completed chain returned by the device.
struct UsedChain {
  uint32_t token = 0;  ///< what the caller passed to add_chain / add_indirect
  uint32_t len = 0;    ///< bytes the device says it wrote
  uint16_t head = 0;
};

/// The driver side of a split virtqueue (virtio 1.x §2.7): it owns the descriptor free list and
/// the avail ring, reads the used ring, and decides when the device needs a kick (§2.7.13.4,
/// EVENT_IDX or VRING_USED_F_NO_NOTIFY) and whether it wants interrupts (used_event /
/// VRING_AVAIL_F_NO_INTERRUPT). Never allocates after init(); every data-path call is noexcept.
/// Single-threaded: one driver thread; the device is the only other party.
///
/// init_packed() switches it to the packed layout (virtio 1.1 §2.7): the same calls then run a
/// DriverPackedRing, with heads meaning buffer ids and indexes meaning encoded positions
/// (index | wrap counter << 15); the split-only raw accessors must not be used then.
///
/// The bookkeeping of which descriptors make up a chain is kept in private shadow arrays, never
/// re-read from guest memory, so a device scribbling on the table (or a fault injected through
/// the raw accessors) cannot corrupt the free list.
class DriverVirtqueue {
 public:
  static constexpr int32_t kNoHead = -1;

  /// Contiguous placement from `base_gpa`: descriptor table, avail ring (with used_event), then
  /// the used ring (with avail_event) at the next 4 KiB boundary (legacy's alignment; harmless
  /// for VERSION_1, which needs only 4). `base_gpa` must be 16-byte aligned.
  static RingPlacement layout(uint64_t base_gpa, uint32_t size) noexcept;
  /// Bytes layout() spans for a queue of `size`.
  static uint64_t footprint(uint32_t size) noexcept;

  /// Binds to ring memory at `placement` (zeroed by the caller, e.g. via GuestRam::alloc).
  /// `size` must be a power of two in [1, 32768]. `event_idx` selects the EVENT_IDX rules.
  /// Returns kInvalidArgument for a bad size or unmapped placement. Control path.
  Status init(GuestRam& ram, uint32_t size, RingPlacement placement, bool event_idx);

  /// Binds to a packed ring from `base_gpa` (DriverPackedRing::layout; the split footprint()
  /// always holds it). `size` in [1, 32768]. Control path.
  Status init_packed(GuestRam& ram, uint32_t size, uint64_t base_gpa, bool event_idx);

  /// Forgets every chain and resets the indexes to `base` (ring memory is zeroed except the
  /// indexes). Use before handing the ring to a new backend session. Packed: `base` is an
  /// encoded position.
  void reset(uint16_t base = 0) noexcept;

  /// Whether init_packed() set the packed layout.
  bool packed() const noexcept { return packed_mode_; }
  /// The packed ring behind the calls (meaningful when packed()).
  DriverPackedRing& packed_ring() noexcept { return packed_; }

  /// Entries in the ring.
  uint32_t size() const noexcept { return size_; }
  /// Descriptors not part of any chain in flight.
  uint32_t free_count() const noexcept { return packed_mode_ ? packed_.free_count() : num_free_; }
  /// Descriptors lent to the device (queued, published or not yet popped back).
  uint32_t in_flight() const noexcept { return size_ - free_count(); }
  /// Where the ring lives (guest-physical).
  const RingPlacement& placement() const noexcept { return placement_; }
  /// Whether the EVENT_IDX rules are in use.
  bool event_idx() const noexcept { return event_idx_; }

  /// Writes `segs` as one descriptor chain and queues its head on the avail ring (not visible to
  /// the device before publish()). Returns the head, or kNoHead when fewer than segs.size()
  /// descriptors are free or segs is empty.
  int32_t add_chain(std::span<const DescSegment> segs, uint32_t token) noexcept;

  /// Writes `segs` as an indirect table at `table_gpa` (caller-owned, >= 16*segs.size() bytes)
  /// and queues one INDIRECT descriptor pointing to it (§2.7.5.3). Returns the head or kNoHead.
  int32_t add_indirect(std::span<const DescSegment> segs, uint64_t table_gpa,
                       uint32_t token) noexcept;

  /// Makes every queued head visible (store-release of avail->idx) and returns whether the device
  /// asked to be kicked for them. Never kicks itself.
  bool publish() noexcept;

  /// Number of used entries the device has published that pop_used() has not returned yet.
  uint16_t used_pending() noexcept;

  /// Takes the next used entry and frees its descriptors. Returns false when none is pending.
  /// An entry naming a head that is not in flight is counted in bad_used() and skipped.
  bool pop_used(UsedChain* out) noexcept;

  /// Reads the `k`-th pending used entry without consuming it (k < used_pending()). Returns false
  /// when fewer entries are pending or the entry names a head that is not in flight.
  bool peek_used(uint16_t k, UsedChain* out) noexcept;

  /// Consumes the next pending used entry without looking at it (one the caller found bad via
  /// peek_used); counts it in bad_used(). Returns false when none is pending.
  bool skip_used() noexcept;

  /// Asks for an interrupt on the next used entry (used_event = last seen, or clears
  /// NO_INTERRUPT), then re-checks: returns true if entries are already pending, in which case
  /// the caller should pop them rather than sleep (closes the race of §2.7.7).
  bool enable_interrupts() noexcept;
  /// Asks the device not to interrupt (best effort, §2.7.7).
  void disable_interrupts() noexcept;

  /// Used entries skipped because they named a head that was not in flight.
  uint64_t bad_used() const noexcept { return packed_mode_ ? packed_.bad_used() : bad_used_; }
  /// Index of the next used entry pop_used() will look at.
  uint16_t last_used_idx() const noexcept { return packed_mode_ ? packed_.used_pos() : last_used_; }
  /// Our avail index, including heads queued but not yet published.
  uint16_t avail_idx() const noexcept { return packed_mode_ ? packed_.avail_pos() : avail_shadow_; }

  // ---- raw access (fault injection, tests acting as the device) ----
  /// The descriptor table, avail ring and used ring in guest memory (our mapping).
  netback::virtio::VringDesc* desc_table() noexcept { return desc_; }
  /// See desc_table().
  netback::virtio::VringAvail* avail() noexcept { return avail_; }
  /// See desc_table().
  netback::virtio::VringUsed* used() noexcept { return used_; }
  /// The used_event trailer of the avail ring (§2.7.6).
  uint16_t* used_event_ptr() noexcept { return &avail_->ring[size_]; }
  /// The avail_event trailer of the used ring (§2.7.8).
  uint16_t* avail_event_ptr() noexcept { return reinterpret_cast<uint16_t*>(&used_->ring[size_]); }
  /// Puts `head` on the avail ring without any bookkeeping (may be garbage on purpose).
  void raw_push_avail(uint16_t head) noexcept;
  /// Stores `idx` to avail->idx directly (release), bypassing the shadow.
  void raw_store_avail_idx(uint16_t idx) noexcept;
  /// Takes a free descriptor index for hand-written chains, or kNoHead. Its shadow link is
  /// cleared so it is never freed by pop_used.
  int32_t raw_take_desc() noexcept;

 private:
  int32_t alloc_descs(uint32_t n) noexcept;
  void push_head(uint16_t head, uint32_t token, uint16_t ndescs) noexcept;

  DriverPackedRing packed_;
  bool packed_mode_ = false;
  GuestRam* ram_ = nullptr;
  uint32_t size_ = 0;
  uint16_t mask_ = 0;
  bool event_idx_ = false;
  RingPlacement placement_;
  netback::virtio::VringDesc* desc_ = nullptr;
  netback::virtio::VringAvail* avail_ = nullptr;
  netback::virtio::VringUsed* used_ = nullptr;

  uint16_t avail_shadow_ = 0;     // heads queued, published or not
  uint16_t avail_published_ = 0;  // what the device has been shown
  uint16_t last_used_ = 0;        // next used entry to pop
  uint16_t used_cache_ = 0;       // last used->idx read
  uint32_t num_free_ = 0;
  uint16_t free_head_ = 0;
  bool interrupts_on_ = true;
  uint64_t bad_used_ = 0;

  // Shadows, one entry per descriptor index.
  std::vector<uint16_t> next_;       // free list / chain links (our copy, never from guest RAM)
  std::vector<uint16_t> chain_len_;  // for heads in flight: descriptors in the chain; 0 = free
  std::vector<uint32_t> token_;
};

}  // namespace uvs::frontend
