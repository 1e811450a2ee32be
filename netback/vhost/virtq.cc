// SPDX-License-Identifier: MIT
// Virtq: split-ring descriptor walking, used-ring publishing and notification suppression.
#include "netback/vhost/virtq.h"

#include "netback/vhost/chain_segments.h"
#include "netback/vhost/indirect_table.h"

#include <algorithm>
#include <atomic>
#include <cstddef>

namespace uvs::netback {

namespace {

using virtio::VringDesc;

// Guest memory is shared with a concurrently running driver: every field is read exactly once
// through a volatile access, so the compiler can never re-read a value after we checked it.
inline VringDesc read_desc(const VringDesc* table, uint32_t i) noexcept {
  const volatile uint64_t* p = reinterpret_cast<const volatile uint64_t*>(table + i);
  uint64_t lo = p[0];
  uint64_t hi = p[1];
  VringDesc d;
  d.addr = lo;
  d.len = static_cast<uint32_t>(hi);
  d.flags = static_cast<uint16_t>(hi >> 32);
  d.next = static_cast<uint16_t>(hi >> 48);
  return d;
}

inline uint16_t read_u16(const uint16_t* p) noexcept {
  return *reinterpret_cast<const volatile uint16_t*>(p);
}

}  // namespace

const char* to_string(VirtqError e) noexcept {
  switch (e) {
    case VirtqError::kOk: return "ok";
    case VirtqError::kEmpty: return "no buffers available";
    case VirtqError::kTooManySegments: return "descriptor chain has too many segments";
    case VirtqError::kZeroLength: return "zero-length descriptor";
    case VirtqError::kNotReady: return "virtqueue not set up";
    case VirtqError::kAvailIdxJump: return "avail index moved more than the queue size";
    case VirtqError::kHeadOutOfRange: return "avail ring head index out of range";
    case VirtqError::kNextOutOfRange: return "descriptor next index out of range";
    case VirtqError::kChainLoop: return "descriptor chain loops";
    case VirtqError::kUnmapped: return "descriptor buffer outside guest memory";
    case VirtqError::kChainTooLong: return "descriptor chain length >= 4 GiB";
    case VirtqError::kReadableAfterWritable: return "device-readable descriptor after writable";
    case VirtqError::kIndirectNotNegotiated: return "indirect descriptor not negotiated";
    case VirtqError::kIndirectBadSize: return "indirect table size invalid";
    case VirtqError::kIndirectNested: return "nested indirect descriptor";
    case VirtqError::kIndirectWithNext: return "indirect descriptor with NEXT flag";
    case VirtqError::kIndirectUnmapped: return "indirect table outside guest memory";
    case VirtqError::kChainLongerThanRing: return "descriptor chain longer than the ring";
    case VirtqError::kChainNotAvailable: return "chained descriptor not made available";
  }
  return "unknown virtqueue error";
}

bool Virtq::setup(const GuestMemory* mem, const VirtqLayout& l, uint16_t last_avail_idx,
                  const VirtqFeatures& features) noexcept {
  reset();
  if (!mem || !l.desc || !l.avail || !l.used) return false;
  if (l.size == 0 || l.size > virtio::kMaxQueueSize || (l.size & (l.size - 1)) != 0) return false;
  // §2.7 alignment requirements; they also make our aligned 16/64-bit accesses legal.
  if (reinterpret_cast<uintptr_t>(l.desc) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(l.avail) % 2 != 0 ||
      reinterpret_cast<uintptr_t>(l.used) % 4 != 0) {
    return false;
  }
  mem_ = mem;
  desc_ = static_cast<VringDesc*>(l.desc);
  avail_ = static_cast<virtio::VringAvail*>(l.avail);
  used_ = static_cast<virtio::VringUsed*>(l.used);
  size_ = l.size;
  mask_ = static_cast<uint16_t>(l.size - 1);
  features_ = features;
  last_avail_idx_ = last_avail_idx;
  shadow_avail_idx_ = last_avail_idx;
  // Continue where the ring's used index stands (a restarted backend, or a frontend that
  // resumed the queue): everything before it was completed.
  used_idx_ = read_u16(&used_->idx);
  published_used_idx_ = used_idx_;
  notifications_enabled_ = true;
  return true;
}

bool Virtq::relocate(const VirtqLayout& l) noexcept {
  uint16_t last_avail = last_avail_idx_, shadow = shadow_avail_idx_, used = used_idx_,
           published = published_used_idx_;
  bool notif = notifications_enabled_;
  uint16_t shadow_count = shadow_count_;
  const GuestMemory* mem = mem_;
  VirtqFeatures features = features_;
  GuestWriter buffers = buffer_writer_, used_ring = used_writer_;
  DirtyLog* log = log_batch_.log();
  uint64_t used_log_gpa = used_log_gpa_;
  if (!setup(mem, l, last_avail, features)) {
    reset();
    return false;
  }
  shadow_avail_idx_ = shadow;
  used_idx_ = used;
  published_used_idx_ = published;
  shadow_count_ = shadow_count;
  notifications_enabled_ = notif;
  log_batch_.attach(log);
  buffer_writer_ = buffers;
  used_writer_ = used_ring;
  used_log_gpa_ = used_log_gpa;
  return true;
}

void Virtq::set_log(DirtyLog* log, bool log_used, uint64_t used_log_gpa) noexcept {
  log_batch_.attach(log);
  buffer_writer_ = GuestWriter(log ? &log_batch_ : nullptr);
  used_writer_ = GuestWriter(log && log_used ? &log_batch_ : nullptr);
  used_log_gpa_ = used_log_gpa;
}

void Virtq::reset() noexcept {
  mem_ = nullptr;
  desc_ = nullptr;
  avail_ = nullptr;
  used_ = nullptr;
  size_ = 0;
  mask_ = 0;
  last_avail_idx_ = shadow_avail_idx_ = used_idx_ = published_used_idx_ = shadow_count_ = 0;
  notifications_enabled_ = true;
  log_batch_.attach(nullptr);
  buffer_writer_ = GuestWriter();
  used_writer_ = GuestWriter();
  used_log_gpa_ = 0;
}

uint16_t Virtq::load_avail_idx() const noexcept {
  // Acquire: the ring entries (and descriptors) the driver wrote before bumping idx must be
  // visible to the reads that follow (§2.7.13.3 memory barrier before idx update).
  return __atomic_load_n(&avail_->idx, __ATOMIC_ACQUIRE);
}

bool Virtq::pending() const noexcept {
  if (!desc_) return false;
  return load_avail_idx() != last_avail_idx_;
}

VirtqError Virtq::pop(iovec* iov, uint32_t capacity, VirtqChain* chain,
                      uint64_t* gpas) noexcept {
  if (!desc_) return VirtqError::kNotReady;
  if (shadow_avail_idx_ == last_avail_idx_) {
    uint16_t idx = load_avail_idx();
    // A driver can never have more than `size` buffers outstanding.
    if (static_cast<uint16_t>(idx - last_avail_idx_) > size_) return VirtqError::kAvailIdxJump;
    shadow_avail_idx_ = idx;
    if (idx == last_avail_idx_) return VirtqError::kEmpty;
    // The descriptors of a burst are separate misses on lines the driver's core wrote. Ask for
    // the first few heads' descriptors together, so those misses overlap instead of being taken
    // one chain at a time; each pop below keeps the same distance ahead.
    const uint16_t n = static_cast<uint16_t>(idx - last_avail_idx_);
    for (uint16_t k = 1; k < n && k <= kDescPrefetchAhead; ++k) {
      prefetch_desc(static_cast<uint16_t>(last_avail_idx_ + k));
    }
  } else if (static_cast<uint16_t>(shadow_avail_idx_ - last_avail_idx_) > kDescPrefetchAhead) {
    prefetch_desc(static_cast<uint16_t>(last_avail_idx_ + kDescPrefetchAhead));
  }
  uint16_t head = read_u16(&avail_->ring[last_avail_idx_ & mask_]);
  last_avail_idx_ = static_cast<uint16_t>(last_avail_idx_ + 1);
  if (head >= size_) return VirtqError::kHeadOutOfRange;
  *chain = VirtqChain{};
  chain->head = head;
  chain->ndescs = 1;
  return walk(head, iov, capacity, chain, gpas);
}

void Virtq::prefetch_desc(uint16_t avail_pos) const noexcept {
  // Only a hint: the head is read again (and checked) when its chain is popped, so a driver
  // rewriting the entry meanwhile changes nothing but what was fetched early.
  const uint16_t head = read_u16(&avail_->ring[avail_pos & mask_]);
  if (head < size_) __builtin_prefetch(&desc_[head]);
}

VirtqError Virtq::walk(uint16_t head, iovec* iov, uint32_t capacity, VirtqChain* chain,
                       uint64_t* gpas) noexcept {
  const VringDesc* table = desc_;
  uint32_t table_size = size_;
  bool in_indirect = false;
  uint32_t i = head;
  uint32_t visited = 0;
  ChainSegments segs(mem_, iov, capacity, gpas, chain);

  for (;;) {
    // Each descriptor can be visited once per table; more means the chain loops (§2.7.5.2
    // bounds a chain by the queue size).
    if (++visited > table_size) return VirtqError::kChainLoop;
    VringDesc d = read_desc(table, i);

    if (d.flags & virtio::kDescFIndirect) {
      if (!features_.indirect) return VirtqError::kIndirectNotNegotiated;
      if (in_indirect) return VirtqError::kIndirectNested;
      if (d.flags & virtio::kDescFNext) return VirtqError::kIndirectWithNext;
      // §2.7.5.3.1: the table's entries are split descriptors linked by NEXT, walked by this
      // same loop with the table's size as the bound.
      VirtqError e =
          map_indirect_table(mem_, d.addr, d.len, virtio::kMaxQueueSize, &table, &table_size);
      if (e != VirtqError::kOk) return e;
      in_indirect = true;
      visited = 0;
      i = 0;
      continue;
    }

    VirtqError e = segs.add(d.addr, d.len, (d.flags & virtio::kDescFWrite) != 0);
    if (e != VirtqError::kOk) return e;
    if (!(d.flags & virtio::kDescFNext)) return segs.finish();
    i = d.next;
    if (i >= table_size) return VirtqError::kNextOutOfRange;
  }
}

void Virtq::write_shadow_used() noexcept {
  uint32_t slot = static_cast<uint16_t>(used_idx_ - shadow_count_) & mask_;
  uint32_t done = 0;
  while (done < shadow_count_) {
    // At most two runs: up to the ring's end, then from slot 0.
    const uint32_t run = std::min<uint32_t>(shadow_count_ - done, size_ - slot);
    used_writer_.copy(
        &used_->ring[slot],
        used_gpa(offsetof(virtio::VringUsed, ring) + slot * sizeof(virtio::VringUsedElem)),
        shadow_used_ + done, run * sizeof(virtio::VringUsedElem));
    done += run;
    slot = (slot + run) & mask_;
  }
  shadow_count_ = 0;
}

bool Virtq::flush() noexcept {
  if (!desc_) return false;
  if (shadow_count_ != 0) write_shadow_used();
  if (used_idx_ == published_used_idx_) return false;
  uint16_t old_idx = published_used_idx_;
  used_writer_.store_u16_release(&used_->idx, used_gpa(offsetof(virtio::VringUsed, idx)),
                                 used_idx_);
  published_used_idx_ = used_idx_;
  // Full barrier between publishing used->idx and reading the driver's suppression state
  // (§2.7.7.2): otherwise we could read a stale used_event and miss a needed interrupt.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (features_.notify_on_empty && load_avail_idx() == last_avail_idx_) return true;
  if (features_.event_idx) {
    uint16_t used_event = read_u16(&avail_->ring[size_]);
    return virtio::vring_need_event(used_event, used_idx_, old_idx);
  }
  return (read_u16(&avail_->flags) & virtio::kAvailFNoInterrupt) == 0;
}

void Virtq::write_avail_event(uint16_t v) noexcept {
  // avail_event lives right after the used ring's `size` elements (§2.7.8).
  used_writer_.store_u16(
      reinterpret_cast<uint16_t*>(&used_->ring[size_]),
      used_gpa(offsetof(virtio::VringUsed, ring) + size_ * sizeof(virtio::VringUsedElem)), v);
}

void Virtq::disable_notifications() noexcept {
  if (!desc_) return;
  notifications_enabled_ = false;
  // With EVENT_IDX the driver ignores the flag (§2.7.10): leaving avail_event behind is what
  // suppresses its kicks.
  if (!features_.event_idx) {
    used_writer_.store_u16(&used_->flags, used_gpa(offsetof(virtio::VringUsed, flags)),
                           read_u16(&used_->flags) | virtio::kUsedFNoNotify);
  }
  flush_log();
}

bool Virtq::enable_notifications() noexcept {
  if (!desc_) return false;
  notifications_enabled_ = true;
  if (features_.event_idx) {
    write_avail_event(last_avail_idx_);
  } else {
    used_writer_.store_u16(&used_->flags, used_gpa(offsetof(virtio::VringUsed, flags)),
                           read_u16(&used_->flags) & ~virtio::kUsedFNoNotify);
  }
  flush_log();
  // Full barrier: the driver must see the re-enabled notification before we re-check the
  // avail index, or a buffer added in between would be neither kicked nor seen.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return pending();
}

bool Virtq::update_avail_event() noexcept {
  if (!desc_) return false;
  if (features_.event_idx && notifications_enabled_) {
    write_avail_event(last_avail_idx_);
    flush_log();
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  return pending();
}

}  // namespace uvs::netback
