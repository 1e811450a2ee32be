// SPDX-License-Identifier: MIT
// Virtq: the device side of one split virtqueue (virtio 1.x §2.7): popping descriptor chains into
// iovecs, returning them on the used ring, and notification suppression both ways.
#pragma once

#include <sys/uio.h>

#include <cstdint>

#include "netback/common/virtio_defs.h"
#include "netback/vhost/guest_memory.h"
#include "netback/vhost/guest_writer.h"
#include "netback/vhost/virtq_chain.h"

namespace uvs::netback {

/// Host pointers and parameters of a split ring, already translated and checked by the caller
/// (sizes: virtio::desc_table_bytes() etc.).
struct VirtqLayout {
  void* desc = nullptr;
  void* avail = nullptr;
  void* used = nullptr;
  uint32_t size = 0;  ///< power of two, 1 .. virtio::kMaxQueueSize
};

/// Device side of a split virtqueue. Loop thread only; data-path calls are noexcept and never
/// allocate. Every guest address in a descriptor goes through GuestMemory; descriptor fields are
/// read once into locals before use, so a guest rewriting them concurrently cannot make us use
/// an unchecked value.
class Virtq {
 public:
  /// Starts using the ring at `layout` with `last_avail_idx` as the next entry to read (the
  /// SET_VRING_BASE value) and the used index found in the ring. Returns false (and stays not
  /// ready) when a pointer is null or misaligned (§2.7: desc 16, avail 2, used 4) or the size
  /// is not a power of two in 1..32768. `mem` must outlive the setup.
  bool setup(const GuestMemory* mem, const VirtqLayout& layout, uint16_t last_avail_idx,
             const VirtqFeatures& features) noexcept;
  /// Moves a running ring to new host addresses (the guest memory table was replaced and the
  /// same ring now maps elsewhere) keeping every index. Same checks as setup(); on failure the
  /// ring is reset.
  bool relocate(const VirtqLayout& layout) noexcept;
  /// Changes the honoured features on a running ring (SET_FEATURES while started).
  void set_features(const VirtqFeatures& features) noexcept { features_ = features; }
  /// Where this ring's stores are logged during a migration (vhost-user.rst "Migration"): writes
  /// into buffers always go to `log` (marked while it is active); used ring writes only with
  /// `log_used` (VHOST_VRING_F_LOG in SET_VRING_ADDR), at `used_log_gpa` (log_guest_addr) plus
  /// their offset in the ring. Kept by relocate(), cleared by reset(); call after setup().
  void set_log(DirtyLog* log, bool log_used, uint64_t used_log_gpa) noexcept;
  /// Forgets the ring (no pointer into guest memory is kept) and its log settings.
  void reset() noexcept;
  bool ready() const noexcept { return desc_ != nullptr; }

  /// Whether the driver has made buffers available that we have not popped. Side-effect free
  /// (usable from FdHandler::poll()). False when not ready.
  bool pending() const noexcept;

  /// Pops the next chain into `iov[0, capacity)`, and with `gpas` the guest-physical address of
  /// each segment into `gpas[0, capacity)` (what the dirty log needs for the buffers written
  /// through them). kOk: `*chain` describes it. A per-chain error
  /// (see VirtqError) consumed the chain: chain->head is valid and must be pushed with length 0.
  /// A chain longer than `capacity` is still walked to its end, so loops and bad addresses past
  /// the capacity are reported as the fatal errors they are. Fatal errors leave the ring in an
  /// unspecified position.
  VirtqError pop(iovec* iov, uint32_t capacity, VirtqChain* chain,
                 uint64_t* gpas = nullptr) noexcept;

  /// Un-pops the last `n` chains popped since the last flush (RX: not enough room for a whole
  /// frame). They will be popped again.
  void unpop(uint16_t n) noexcept { last_avail_idx_ = static_cast<uint16_t>(last_avail_idx_ - n); }

  /// Where the next pop() reads (see rewind()).
  using Mark = uint16_t;
  Mark avail_mark() const noexcept { return last_avail_idx_; }
  /// Goes back to `m` (taken since the last flush): the chains popped after it will be popped
  /// again. The data path's generic form of unpop().
  void rewind(Mark m) noexcept { last_avail_idx_ = m; }

  /// Records a used element (head, bytes written). Not visible to the driver until flush().
  void push(uint16_t head, uint32_t len) noexcept {
    if (shadow_count_ == kShadowUsed) [[unlikely]] write_shadow_used();
    shadow_used_[shadow_count_++] = {head, len};
    used_idx_ = static_cast<uint16_t>(used_idx_ + 1);
  }
  /// push() for a popped chain's ref().
  void push(UsedRef r, uint32_t len) noexcept { push(r.id, len); }

  /// Writes the pushed elements into the used ring, then publishes them with one release store
  /// of used->idx. Returns whether the driver
  /// wants an interrupt for them (EVENT_IDX: §2.7.10 used_event; otherwise avail->flags
  /// NO_INTERRUPT; NOTIFY_ON_EMPTY forces one when the ring ran empty). False if nothing was
  /// pushed.
  bool flush() noexcept;

  /// Asks the driver not to kick (VRING_USED_F_NO_NOTIFY, or with EVENT_IDX simply stop moving
  /// avail_event). Used while busy-polling.
  void disable_notifications() noexcept;
  /// Asks the driver to kick for new buffers again, then (after a full barrier) returns
  /// pending(): true means buffers arrived that the driver may not kick for, so the caller must
  /// process them now.
  bool enable_notifications() noexcept;
  /// With EVENT_IDX and notifications enabled, moves avail_event to the next entry we will read
  /// (after a burst of pops), then returns pending() after a full barrier like
  /// enable_notifications(). Without EVENT_IDX just returns pending().
  bool update_avail_event() noexcept;

  /// The writer for device-writable buffers of this ring (logs to the ring's log).
  const GuestWriter& buffer_writer() const noexcept { return buffer_writer_; }
  /// Writes the dirty-page marks gathered by this ring's stores into the log (DirtyLogBatch::flush);
  /// the data path calls it at the end of every burst. The notification calls below flush
  /// themselves.
  void flush_log() noexcept { log_batch_.flush(); }
  /// A store was logged outside the dirty log: the port must break (DirtyLogBatch::overflowed()).
  bool log_overflowed() const noexcept { return log_batch_.overflowed(); }

  uint16_t last_avail_idx() const noexcept { return last_avail_idx_; }
  uint16_t used_idx() const noexcept { return used_idx_; }
  uint32_t size() const noexcept { return size_; }
  const VirtqFeatures& features() const noexcept { return features_; }

 private:
  /// How many avail entries ahead of the one being popped have their descriptor prefetched.
  /// Eight 16-byte descriptors are two cache lines: enough in flight to overlap the misses of
  /// consecutive chains, few enough to stay cached until their walk.
  static constexpr uint16_t kDescPrefetchAhead = 8;
  /// Prefetches the descriptor named by avail ring entry `avail_pos` (a head out of range is
  /// ignored here and reported when that entry is popped).
  void prefetch_desc(uint16_t avail_pos) const noexcept;
  /// Used elements gathered before they are written to the ring (DPDK's "shadow used ring"):
  /// a burst's elements go out as one or two contiguous copies right before used->idx, instead
  /// of one store pair per chain into lines the driver's core keeps reading. 64 covers a burst
  /// of kMaxBurst frames with a second chain each; more pushes write the full shadow out early.
  static constexpr uint16_t kShadowUsed = 64;
  /// Copies the shadowed elements into the used ring (slots used_idx_ - shadow_count_ onwards).
  void write_shadow_used() noexcept;
  VirtqError walk(uint16_t head, iovec* iov, uint32_t capacity, VirtqChain* chain,
                  uint64_t* gpas) noexcept;
  /// Guest-physical address logged for byte `off` of the used ring.
  uint64_t used_gpa(uint64_t off) const noexcept { return used_log_gpa_ + off; }
  uint16_t load_avail_idx() const noexcept;
  void write_avail_event(uint16_t v) noexcept;

  const GuestMemory* mem_ = nullptr;
  virtio::VringDesc* desc_ = nullptr;
  virtio::VringAvail* avail_ = nullptr;
  virtio::VringUsed* used_ = nullptr;
  uint32_t size_ = 0;
  uint16_t mask_ = 0;
  uint16_t last_avail_idx_ = 0;
  uint16_t shadow_avail_idx_ = 0;  // last avail->idx read by pop()
  uint16_t used_idx_ = 0;          // next used slot (published or not)
  uint16_t published_used_idx_ = 0;
  uint16_t shadow_count_ = 0;  // pushed elements not yet in the ring: the last of used_idx_
  bool notifications_enabled_ = true;
  VirtqFeatures features_;
  // This ring's dirty-log marks: the ring is served by one lane, so its batch is that thread's.
  DirtyLogBatch log_batch_;
  GuestWriter buffer_writer_;  // buffers: logs while the log is active
  GuestWriter used_writer_;    // used ring: logs only with VHOST_VRING_F_LOG
  uint64_t used_log_gpa_ = 0;
  virtio::VringUsedElem shadow_used_[kShadowUsed];
};

}  // namespace uvs::netback
