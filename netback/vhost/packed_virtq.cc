// SPDX-License-Identifier: MIT
// PackedVirtq: packed-ring descriptor walking, used descriptors, and event suppression.
#include "netback/vhost/packed_virtq.h"

#include <atomic>
#include <cstddef>

#include "netback/vhost/chain_segments.h"
#include "netback/vhost/indirect_table.h"

namespace uvs::netback {

namespace {

using virtio::PackedDesc;

// The driver writes the ring concurrently: each descriptor is read exactly once through
// volatile accesses, so no field is re-read after it was checked.
inline PackedDesc read_desc(const PackedDesc* table, uint32_t i) noexcept {
  const volatile uint64_t* p = reinterpret_cast<const volatile uint64_t*>(table + i);
  uint64_t lo = p[0];
  uint64_t hi = p[1];
  PackedDesc d;
  d.addr = lo;
  d.len = static_cast<uint32_t>(hi);
  d.id = static_cast<uint16_t>(hi >> 32);
  d.flags = static_cast<uint16_t>(hi >> 48);
  return d;
}

inline uint16_t read_u16(const uint16_t* p) noexcept {
  return *reinterpret_cast<const volatile uint16_t*>(p);
}

inline uint16_t load_flags(const PackedDesc* d) noexcept {
  // Acquire: the rest of this descriptor and of its chain, written before the flags (virtio 1.1
  // §2.7 "Supplying Buffers to The Device"), must be seen by the reads that follow.
  return __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
}

constexpr uint64_t kFlagsOffset = offsetof(PackedDesc, flags);

}  // namespace

bool PackedVirtq::setup(const GuestMemory* mem, const PackedLayout& l, PackedPos avail,
                        const VirtqFeatures& features) noexcept {
  reset();
  if (!mem || !l.desc || !l.driver_event || !l.device_event) return false;
  if (l.size == 0 || l.size > virtio::kMaxPackedQueueSize || avail.idx >= l.size) return false;
  // virtio 1.1 §2.7 "Structure Size and Alignment": ring 16, event structures 4.
  if (reinterpret_cast<uintptr_t>(l.desc) % 16 != 0 ||
      reinterpret_cast<uintptr_t>(l.driver_event) % 4 != 0 ||
      reinterpret_cast<uintptr_t>(l.device_event) % 4 != 0) {
    return false;
  }
  mem_ = mem;
  desc_ = static_cast<PackedDesc*>(l.desc);
  driver_event_ = static_cast<const virtio::PackedEvent*>(l.driver_event);
  device_event_ = static_cast<virtio::PackedEvent*>(l.device_event);
  size_ = l.size;
  desc_gpa_ = l.desc_gpa;
  features_ = features;
  // Nothing is in flight across a stop (every popped chain is returned within its burst), so
  // used descriptors continue where the driver's next available one is expected.
  avail_ = avail;
  used_ = avail;
  published_ = avail;
  unpublished_ = false;
  notifications_enabled_ = true;
  return true;
}

bool PackedVirtq::relocate(const PackedLayout& l) noexcept {
  PackedPos avail = avail_, used = used_, published = published_;
  uint16_t first_flags = first_flags_, first_slot = first_slot_;
  bool unpublished = unpublished_, notif = notifications_enabled_;
  const GuestMemory* mem = mem_;
  VirtqFeatures features = features_;
  GuestWriter buffers = buffer_writer_, ring = ring_writer_;
  DirtyLog* log = log_batch_.log();
  uint64_t event_gpa = device_event_gpa_;
  if (!setup(mem, l, avail, features)) {
    reset();
    return false;
  }
  used_ = used;
  published_ = published;
  first_flags_ = first_flags;
  first_slot_ = first_slot;
  unpublished_ = unpublished;
  notifications_enabled_ = notif;
  log_batch_.attach(log);
  buffer_writer_ = buffers;
  ring_writer_ = ring;
  device_event_gpa_ = event_gpa;
  return true;
}

void PackedVirtq::set_log(DirtyLog* log, bool log_ring, uint64_t device_event_gpa) noexcept {
  log_batch_.attach(log);
  buffer_writer_ = GuestWriter(log ? &log_batch_ : nullptr);
  ring_writer_ = GuestWriter(log && log_ring ? &log_batch_ : nullptr);
  device_event_gpa_ = device_event_gpa;
}

void PackedVirtq::reset() noexcept {
  mem_ = nullptr;
  desc_ = nullptr;
  driver_event_ = nullptr;
  device_event_ = nullptr;
  size_ = 0;
  desc_gpa_ = 0;
  avail_ = used_ = published_ = PackedPos{};
  first_flags_ = first_slot_ = 0;
  unpublished_ = false;
  notifications_enabled_ = true;
  log_batch_.attach(nullptr);
  buffer_writer_ = GuestWriter();
  ring_writer_ = GuestWriter();
  device_event_gpa_ = 0;
}

bool PackedVirtq::pending() const noexcept {
  return desc_ != nullptr && is_avail(load_flags(&desc_[avail_.idx]));
}

VirtqError PackedVirtq::pop(iovec* iov, uint32_t capacity, VirtqChain* chain,
                            uint64_t* gpas) noexcept {
  if (!desc_) return VirtqError::kNotReady;
  const uint16_t head_flags = load_flags(&desc_[avail_.idx]);
  if (!is_avail(head_flags)) return VirtqError::kEmpty;
  *chain = VirtqChain{};
  ChainSegments segs(mem_, iov, capacity, gpas, chain);
  PackedPos p = avail_;
  uint32_t n = 0;
  for (;;) {
    // §2.7 "Scatter-Gather Support": a list is never longer than the queue size (so it cannot lap the ring).
    if (++n > size_) return VirtqError::kChainLongerThanRing;
    PackedDesc d = read_desc(desc_, p.idx);
    if (n == 1) {
      d.flags = head_flags;
    } else if (((d.flags & virtio::kPackedDescFAvail) != 0) != p.wrap ||
               ((d.flags & virtio::kPackedDescFUsed) != 0) == p.wrap) {
      // §2.7 "Next Flag: Descriptor Chaining": every descriptor of a list carries correct AVAIL/USED flags, and the driver makes
      // the head available only after the rest.
      return VirtqError::kChainNotAvailable;
    }
    advance(&p, 1);
    if (d.flags & virtio::kDescFIndirect) {
      if (!features_.indirect) return VirtqError::kIndirectNotNegotiated;
      // §2.7 "Indirect Descriptors": never inside a NEXT-linked list.
      if (n != 1 || (d.flags & virtio::kDescFNext)) return VirtqError::kIndirectWithNext;
      VirtqError e = walk_indirect(d, segs);
      if (e != VirtqError::kOk) return e;
    } else {
      VirtqError e = segs.add(d.addr, d.len, (d.flags & virtio::kDescFWrite) != 0);
      if (e != VirtqError::kOk) return e;
      if (d.flags & virtio::kDescFNext) continue;
    }
    // §2.7 "Next Flag: Descriptor Chaining": the buffer id is in the last descriptor.
    chain->head = d.id;
    chain->ndescs = static_cast<uint16_t>(n);
    avail_ = p;
    return segs.finish();
  }
}

VirtqError PackedVirtq::walk_indirect(const PackedDesc& d, ChainSegments& segs) noexcept {
  const PackedDesc* table = nullptr;
  uint32_t count = 0;
  VirtqError m =
      map_indirect_table(mem_, d.addr, d.len, virtio::kMaxPackedQueueSize, &table, &count);
  if (m != VirtqError::kOk) return m;
  for (uint32_t i = 0; i < count; ++i) {
    // §2.7 "Indirect Flag": in an indirect table WRITE is the only flag the driver may set and
    // the buffer id is ignored; the entries follow each other without NEXT. A nested INDIRECT
    // is refused as on a split ring (§2.7.5.3.1), so a table never leads to another table.
    PackedDesc e = read_desc(table, i);
    if (e.flags & virtio::kDescFIndirect) return VirtqError::kIndirectNested;
    VirtqError r = segs.add(e.addr, e.len, (e.flags & virtio::kDescFWrite) != 0);
    if (r != VirtqError::kOk) return r;
  }
  return VirtqError::kOk;
}

void PackedVirtq::push(UsedRef r, uint32_t len) noexcept {
  if (!desc_) return;
  const uint16_t slot = used_.idx;
  // §2.7 "Driver and Device Ring Wrap Counters": a used descriptor has AVAIL and USED both
  // equal to the device's wrap counter; WRITE says whether the device wrote into the buffer.
  uint16_t flags = used_.wrap ? (virtio::kPackedDescFAvail | virtio::kPackedDescFUsed) : 0;
  if (len != 0) flags |= virtio::kDescFWrite;
  ring_writer_.store_packed_used(&desc_[slot], desc_gpa(slot), r.id, len);
  if (!unpublished_) {
    first_slot_ = slot;
    first_flags_ = flags;
    unpublished_ = true;
  } else {
    ring_writer_.store_u16_release(&desc_[slot].flags, desc_gpa(slot) + kFlagsOffset, flags);
  }
  advance(&used_, r.ndescs != 0 ? r.ndescs : 1);
}

bool PackedVirtq::flush() noexcept {
  if (!desc_ || !unpublished_) return false;
  ring_writer_.store_u16_release(&desc_[first_slot_].flags,
                                 desc_gpa(first_slot_) + kFlagsOffset, first_flags_);
  unpublished_ = false;
  const PackedPos old = published_;
  published_ = used_;
  // Full barrier between publishing and reading the driver's suppression state ("Driver and
  // Device Event Suppression"), as for the split ring's used->idx.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (features_.notify_on_empty && !pending()) return true;
  const uint16_t flags = read_u16(&driver_event_->flags) & 3;
  if (flags == virtio::kPackedEventDisable) return false;
  if (flags != virtio::kPackedEventDesc || !features_.event_idx) return true;
  // Notify iff the position the driver named lies in [old, used_): positions are counted over
  // two laps (index, plus the size when the wrap counter is 0), modulo twice the size.
  const uint32_t lap = 2 * size_;
  auto linear = [this](PackedPos p) { return p.idx + (p.wrap ? 0u : size_); };
  const uint32_t now = linear(used_);
  const uint32_t event = linear(decode(read_u16(&driver_event_->off_wrap))) % lap;
  return (now + lap - event - 1) % lap < (now + lap - linear(old)) % lap;
}

void PackedVirtq::write_device_event(uint16_t flags) noexcept {
  ring_writer_.store_u16(&device_event_->flags,
                         device_event_gpa_ + offsetof(virtio::PackedEvent, flags), flags);
}

void PackedVirtq::disable_notifications() noexcept {
  if (!desc_) return;
  notifications_enabled_ = false;
  write_device_event(virtio::kPackedEventDisable);
  flush_log();
}

bool PackedVirtq::enable_notifications() noexcept {
  if (!desc_) return false;
  notifications_enabled_ = true;
  if (features_.event_idx) {
    ring_writer_.store_u16(&device_event_->off_wrap, device_event_gpa_, encode(avail_));
    write_device_event(virtio::kPackedEventDesc);
  } else {
    write_device_event(virtio::kPackedEventEnable);
  }
  flush_log();
  // The driver must see the request before we look for buffers again, or one made available in
  // between would be neither kicked nor seen.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return pending();
}

bool PackedVirtq::update_avail_event() noexcept {
  if (!desc_) return false;
  if (features_.event_idx && notifications_enabled_) {
    ring_writer_.store_u16(&device_event_->off_wrap, device_event_gpa_, encode(avail_));
    flush_log();
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  return pending();
}

}  // namespace uvs::netback
