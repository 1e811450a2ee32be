// SPDX-License-Identifier: MIT
// DriverPackedRing: the driver (guest) side of one packed virtqueue living in GuestRam.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "netback/frontend/frontend_error.h"
#include "netback/frontend/guest_ram.h"
#include "netback/common/virtio_defs.h"

namespace uvs::frontend {

struct DescSegment;
struct RingPlacement;
struct UsedChain;

/// The driver side of a packed virtqueue (virtio 1.1 §2.7, "Packed Virtqueues"): it writes
/// descriptors with AVAIL/USED flags that follow its wrap counter, hands out buffer ids from a
/// free list, reads used descriptors by buffer id (the device may complete them out of order and
/// skips the slots of each chain), and runs the driver event suppression structure (§2.7.10).
/// Never allocates after init(); every data-path call is noexcept. Single-threaded.
///
/// Which ids and how many descriptors each chain holds are kept in private shadow arrays, never
/// re-read from guest memory, so a device writing a bad id cannot corrupt the free list.
class DriverPackedRing {
 public:
  /// Placement from `base_gpa` (16-byte aligned): the descriptor ring, then the driver event
  /// suppression structure, then the device's (RingPlacement's desc/avail/used fields, as
  /// vhost-user's SET_VRING_ADDR carries them for a packed ring).
  static RingPlacement layout(uint64_t base_gpa, uint32_t size) noexcept;
  /// Bytes layout() spans for a queue of `size`.
  static uint64_t footprint(uint32_t size) noexcept;

  /// Binds to ring memory at `placement`; `size` in [1, 32768]. kInvalidArgument for a bad size
  /// or an unmapped or misaligned placement. Control path.
  Status init(GuestRam& ram, uint32_t size, const RingPlacement& placement, bool event_idx);
  /// Forgets every chain, zeroes the ring, and puts both positions at `pos` (index in bits 0-14,
  /// wrap counter in bit 15, as vhost-user's SET_VRING_BASE encodes it).
  void reset(uint16_t pos) noexcept;

  uint32_t size() const noexcept { return size_; }
  /// Descriptors not part of any chain in flight.
  uint32_t free_count() const noexcept { return num_free_; }

  /// Writes `segs` as one chain at the next positions, all with the same buffer id; the head's
  /// flags are written by publish(). Returns the buffer id, or -1 when descriptors or ids run out.
  int32_t add_chain(std::span<const DescSegment> segs, uint32_t token) noexcept;
  /// Writes `segs` as an indirect table at `table_gpa` and one INDIRECT descriptor (§2.7.5.3's
  /// packed counterpart, "Indirect Flag: Scatter-Gather Support"). Returns the id or -1.
  int32_t add_indirect(std::span<const DescSegment> segs, uint64_t table_gpa, uint32_t token) noexcept;
  /// Makes the queued chains visible (head flags, release, in order) and returns whether the
  /// device asked for a kick (device event ENABLE, or DESC naming a position just made
  /// available).
  bool publish() noexcept;

  /// Used buffers the device has published that pop_used() has not returned yet.
  uint16_t used_pending() noexcept;
  /// Takes the next used buffer and frees its descriptors and id. A used descriptor naming an id
  /// not in flight is counted in bad_used() and skipped (one slot).
  bool pop_used(UsedChain* out) noexcept;
  /// Reads the `k`-th pending used buffer without consuming it; false when fewer are pending or
  /// it names an id not in flight.
  bool peek_used(uint16_t k, UsedChain* out) noexcept;
  /// Consumes the next pending used descriptor as bad (counted in bad_used()).
  bool skip_used() noexcept;

  /// Driver event suppression: DESC at the next used position with EVENT_IDX, else ENABLE; then
  /// re-checks and returns whether buffers are already pending.
  bool enable_interrupts() noexcept;
  /// Driver event suppression flags DISABLE.
  void disable_interrupts() noexcept;

  uint64_t bad_used() const noexcept { return bad_used_; }
  /// Next used position to read, encoded (index | wrap << 15).
  uint16_t used_pos() const noexcept { return encode(last_used_, used_wrap_); }
  /// Next available position to write, encoded; includes chains queued but not published.
  uint16_t avail_pos() const noexcept { return encode(next_avail_, avail_wrap_); }

  // ---- raw access (fault injection, tests acting as the device) ----
  /// The descriptor ring in guest memory (our mapping).
  netback::virtio::PackedDesc* ring() noexcept { return desc_; }
  /// The driver event suppression structure (we write it).
  netback::virtio::PackedEvent* driver_event() noexcept { return driver_event_; }
  /// The device event suppression structure (the device writes it).
  netback::virtio::PackedEvent* device_event() noexcept { return device_event_; }
  /// Writes `chain` (addr, len, id and NEXT/WRITE/INDIRECT flags taken as given) at the next
  /// positions without any bookkeeping: its descriptors are never freed. The rest of the chain
  /// gets AVAIL/USED flags of the current wrap counter, or the opposite ones with `wrong_wrap`;
  /// the head is made available by publish(). False when fewer descriptors are free.
  bool raw_add(std::span<const netback::virtio::PackedDesc> chain, bool wrong_wrap = false) noexcept;

  static uint16_t encode(uint16_t idx, bool wrap) noexcept {
    return static_cast<uint16_t>(idx | (wrap ? 0x8000 : 0));
  }

 private:
  uint16_t avail_flags() const noexcept {
    return avail_wrap_ ? netback::virtio::kPackedDescFAvail : netback::virtio::kPackedDescFUsed;
  }
  void advance(uint16_t* idx, bool* wrap, uint32_t n) const noexcept;
  void queue_head(uint16_t flags) noexcept;
  bool is_used(uint16_t idx, bool wrap) const noexcept;
  bool valid_id(uint16_t id) const noexcept { return id < size_ && chain_len_[id] != 0; }
  void set_driver_event(uint16_t flags) noexcept;

  GuestRam* ram_ = nullptr;
  uint32_t size_ = 0;
  bool event_idx_ = false;
  netback::virtio::PackedDesc* desc_ = nullptr;
  netback::virtio::PackedEvent* driver_event_ = nullptr;
  netback::virtio::PackedEvent* device_event_ = nullptr;

  uint16_t next_avail_ = 0;  // next slot add_chain writes
  bool avail_wrap_ = true;   // §2.7: both wrap counters start at 1
  uint16_t published_ = 0;   // avail position at the last publish (kick decision)
  bool published_wrap_ = true;
  uint16_t last_used_ = 0;   // next used descriptor to read
  bool used_wrap_ = true;
  uint16_t scan_ = 0;        // first slot used_pending() has not looked at
  bool scan_wrap_ = true;
  uint16_t scanned_ = 0;     // used buffers found between last_used_ and scan_
  uint32_t scanned_descs_ = 0;  // slots between last_used_ and scan_
  uint32_t num_free_ = 0;
  bool interrupts_on_ = true;
  uint64_t bad_used_ = 0;

  std::vector<uint16_t> free_ids_;   // stack
  uint32_t free_top_ = 0;
  std::vector<uint16_t> chain_len_;  // per id: slots its chain occupies; 0 = not in flight
  std::vector<uint32_t> token_;
  // Heads written but not yet made available: slot and the flags publish() stores there.
  std::vector<uint16_t> head_slot_;
  std::vector<uint16_t> head_flags_;
  uint32_t heads_ = 0;
};

}  // namespace uvs::frontend
