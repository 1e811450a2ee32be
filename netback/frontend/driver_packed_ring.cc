// SPDX-License-Identifier: MIT
// DriverPackedRing: packed descriptor writing, buffer ids, used reading by id and event suppression.
#include "netback/frontend/driver_packed_ring.h"

#include <atomic>
#include <cstring>

#include "netback/frontend/driver_virtqueue.h"
#include "netback/frontend/ring_access.h"

namespace uvs::frontend {

namespace virtio = netback::virtio;
using virtio::PackedDesc;

namespace {

// Linear position over two laps: the index, plus the size on a lap whose wrap counter is 0.
uint32_t linear(uint16_t idx, bool wrap, uint32_t size) noexcept { return idx + (wrap ? 0u : size); }

}  // namespace

RingPlacement DriverPackedRing::layout(uint64_t base_gpa, uint32_t size) noexcept {
  RingPlacement p;
  p.desc_gpa = base_gpa;
  p.avail_gpa = base_gpa + virtio::packed_desc_ring_bytes(size);  // driver event suppression
  p.used_gpa = p.avail_gpa + sizeof(virtio::PackedEvent);           // device event suppression
  return p;
}

uint64_t DriverPackedRing::footprint(uint32_t size) noexcept {
  return virtio::packed_desc_ring_bytes(size) + 2 * sizeof(virtio::PackedEvent);
}

Status DriverPackedRing::init(GuestRam& ram, uint32_t size, const RingPlacement& placement, bool event_idx) {
  if (size == 0 || size > virtio::kMaxPackedQueueSize) {
    return Status::fail(FrontendError::kInvalidArgument, "packed queue size must be in 1..32768");
  }
  auto* desc = ram.host(placement.desc_gpa, virtio::packed_desc_ring_bytes(size));
  auto* drv = ram.host(placement.avail_gpa, sizeof(virtio::PackedEvent));
  auto* dev = ram.host(placement.used_gpa, sizeof(virtio::PackedEvent));
  // "Structure Size and Alignment": the ring 16 bytes, the event structures 4.
  if (desc == nullptr || drv == nullptr || dev == nullptr || placement.desc_gpa % 16 != 0 ||
      placement.avail_gpa % 4 != 0 || placement.used_gpa % 4 != 0) {
    return Status::fail(FrontendError::kInvalidArgument, "ring placement outside guest memory or misaligned");
  }
  ram_ = &ram;
  size_ = size;
  event_idx_ = event_idx;
  desc_ = reinterpret_cast<PackedDesc*>(desc);
  driver_event_ = reinterpret_cast<virtio::PackedEvent*>(drv);
  device_event_ = reinterpret_cast<virtio::PackedEvent*>(dev);
  free_ids_.assign(size, 0);
  chain_len_.assign(size, 0);
  token_.assign(size, 0);
  head_slot_.assign(size, 0);
  head_flags_.assign(size, 0);
  reset(encode(0, true));
  return Status::success();
}

void DriverPackedRing::reset(uint16_t pos) noexcept {
  std::memset(desc_, 0, virtio::packed_desc_ring_bytes(size_));
  std::memset(driver_event_, 0, sizeof(*driver_event_));
  std::memset(device_event_, 0, sizeof(*device_event_));
  uint16_t idx = static_cast<uint16_t>(pos & 0x7fff);
  if (idx >= size_) idx = 0;
  const bool wrap = (pos & 0x8000) != 0;
  next_avail_ = published_ = last_used_ = scan_ = idx;
  avail_wrap_ = published_wrap_ = used_wrap_ = scan_wrap_ = wrap;
  scanned_ = 0;
  scanned_descs_ = 0;
  num_free_ = size_;
  // Hand out low ids first: the stack's top is id 0.
  for (uint32_t i = 0; i < size_; ++i) {
    free_ids_[i] = static_cast<uint16_t>(size_ - 1 - i);
    chain_len_[i] = 0;
    token_[i] = 0;
  }
  free_top_ = size_;
  heads_ = 0;
  interrupts_on_ = true;
  bad_used_ = 0;
  if (event_idx_) store_relaxed(&driver_event_->off_wrap, encode(idx, wrap));
}

void DriverPackedRing::advance(uint16_t* idx, bool* wrap, uint32_t n) const noexcept {
  uint32_t i = *idx + n;
  while (i >= size_) {
    i -= size_;
    *wrap = !*wrap;
  }
  *idx = static_cast<uint16_t>(i);
}

void DriverPackedRing::queue_head(uint16_t flags) noexcept {
  head_slot_[heads_] = next_avail_;
  head_flags_[heads_] = flags;
  ++heads_;
}

int32_t DriverPackedRing::add_chain(std::span<const DescSegment> segs, uint32_t token) noexcept {
  if (segs.empty() || segs.size() > num_free_ || free_top_ == 0 || heads_ == size_) return -1;
  const uint16_t id = free_ids_[--free_top_];
  chain_len_[id] = static_cast<uint16_t>(segs.size());
  token_[id] = token;
  num_free_ -= static_cast<uint32_t>(segs.size());
  // Every descriptor carries the id (the device reads it from the last one) and the AVAIL/USED
  // flags of the lap it lies on; the head's flags wait for publish() so the device never sees
  // a half-written chain ("Next Flag: Descriptor Chaining").
  for (size_t i = 0; i < segs.size(); ++i) {
    PackedDesc& d = desc_[next_avail_];
    d.addr = segs[i].gpa;
    d.len = segs[i].len;
    d.id = id;
    uint16_t flags = static_cast<uint16_t>((segs[i].device_writable ? virtio::kDescFWrite : 0) |
                                           (i + 1 < segs.size() ? virtio::kDescFNext : 0) | avail_flags());
    if (i == 0) {
      queue_head(flags);
    } else {
      store_relaxed(&d.flags, flags);
    }
    advance(&next_avail_, &avail_wrap_, 1);
  }
  return id;
}

int32_t DriverPackedRing::add_indirect(std::span<const DescSegment> segs, uint64_t table_gpa,
                                       uint32_t token) noexcept {
  if (segs.empty() || segs.size() > size_ || num_free_ == 0 || free_top_ == 0 || heads_ == size_) return -1;
  auto* table = reinterpret_cast<PackedDesc*>(ram_->host(table_gpa, segs.size() * sizeof(PackedDesc)));
  if (table == nullptr) return -1;
  // "Indirect Flag: Scatter-Gather Support": table entries follow each other; WRITE is their
  // only flag and their ids are ignored.
  for (size_t i = 0; i < segs.size(); ++i) {
    table[i] = {segs[i].gpa, segs[i].len, 0,
                static_cast<uint16_t>(segs[i].device_writable ? virtio::kDescFWrite : 0)};
  }
  const uint16_t id = free_ids_[--free_top_];
  chain_len_[id] = 1;
  token_[id] = token;
  --num_free_;
  PackedDesc& d = desc_[next_avail_];
  d.addr = table_gpa;
  d.len = static_cast<uint32_t>(segs.size() * sizeof(PackedDesc));
  d.id = id;
  queue_head(static_cast<uint16_t>(virtio::kDescFIndirect | avail_flags()));
  advance(&next_avail_, &avail_wrap_, 1);
  return id;
}

bool DriverPackedRing::raw_add(std::span<const PackedDesc> chain, bool wrong_wrap) noexcept {
  if (chain.empty() || chain.size() > num_free_ || heads_ == size_) return false;
  num_free_ -= static_cast<uint32_t>(chain.size());
  for (size_t i = 0; i < chain.size(); ++i) {
    PackedDesc& d = desc_[next_avail_];
    d.addr = chain[i].addr;
    d.len = chain[i].len;
    d.id = chain[i].id;
    uint16_t lap = avail_flags();
    if (wrong_wrap && i != 0) lap = static_cast<uint16_t>(lap ^ (virtio::kPackedDescFAvail | virtio::kPackedDescFUsed));
    const uint16_t flags = static_cast<uint16_t>((chain[i].flags & ~(virtio::kPackedDescFAvail |
                                                                     virtio::kPackedDescFUsed)) | lap);
    if (i == 0) {
      queue_head(flags);
    } else {
      store_relaxed(&d.flags, flags);
    }
    advance(&next_avail_, &avail_wrap_, 1);
  }
  return true;
}

bool DriverPackedRing::publish() noexcept {
  if (heads_ == 0) return false;
  // Descriptor bodies and the rest of each chain before its head's flags (§2.7.13's packed
  // counterpart, "Supplying Buffers to The Device").
  for (uint32_t i = 0; i < heads_; ++i) store_release(&desc_[head_slot_[i]].flags, head_flags_[i]);
  heads_ = 0;
  const uint32_t old = linear(published_, published_wrap_, size_);
  published_ = next_avail_;
  published_wrap_ = avail_wrap_;
  // The flag stores must be ordered before reading the device's suppression state, or a kick
  // it asks for just after we look would be missed.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const uint16_t flags = load_relaxed(&device_event_->flags) & 3;
  if (flags == virtio::kPackedEventDisable) return false;
  if (flags != virtio::kPackedEventDesc || !event_idx_) return true;
  // Kick iff the position the device named lies in [old, new), counted over two laps.
  const uint32_t lap = 2 * size_;
  const uint16_t ow = load_relaxed(&device_event_->off_wrap);
  const uint32_t event = linear(ow & 0x7fff, (ow & 0x8000) != 0, size_) % lap;
  const uint32_t now = linear(next_avail_, avail_wrap_, size_);
  return (now + lap - event - 1) % lap < (now + lap - old) % lap;
}

bool DriverPackedRing::is_used(uint16_t idx, bool wrap) const noexcept {
  const uint16_t f = load_acquire(&desc_[idx].flags);
  return ((f & virtio::kPackedDescFAvail) != 0) == wrap && ((f & virtio::kPackedDescFUsed) != 0) == wrap;
}

uint16_t DriverPackedRing::used_pending() noexcept {
  // Used descriptors can only sit in slots lent to the device; never look past them.
  const uint32_t lent = size_ - num_free_;
  while (scanned_descs_ < lent && is_used(scan_, scan_wrap_)) {
    const uint16_t id = desc_[scan_].id;
    const uint32_t skip = valid_id(id) ? chain_len_[id] : 1;
    advance(&scan_, &scan_wrap_, skip);
    scanned_descs_ += skip;
    ++scanned_;
  }
  return scanned_;
}

bool DriverPackedRing::pop_used(UsedChain* out) noexcept {
  while (scanned_ != 0 || used_pending() != 0) {
    const PackedDesc d = desc_[last_used_];
    --scanned_;
    if (!valid_id(d.id)) {
      ++bad_used_;
      advance(&last_used_, &used_wrap_, 1);
      scanned_descs_ -= 1;
      continue;
    }
    const uint16_t n = chain_len_[d.id];
    advance(&last_used_, &used_wrap_, n);
    scanned_descs_ -= n;
    num_free_ += n;
    chain_len_[d.id] = 0;
    free_ids_[free_top_++] = d.id;
    if (event_idx_ && interrupts_on_) store_relaxed(&driver_event_->off_wrap, used_pos());
    out->token = token_[d.id];
    out->len = d.len;
    out->head = d.id;
    return true;
  }
  return false;
}

bool DriverPackedRing::peek_used(uint16_t k, UsedChain* out) noexcept {
  if (scanned_ <= k && used_pending() <= k) return false;
  uint16_t idx = last_used_;
  bool wrap = used_wrap_;
  for (uint16_t i = 0; i < k; ++i) {
    const uint16_t id = desc_[idx].id;
    advance(&idx, &wrap, valid_id(id) ? chain_len_[id] : 1);
  }
  const PackedDesc d = desc_[idx];
  if (!valid_id(d.id)) return false;
  out->token = token_[d.id];
  out->len = d.len;
  out->head = d.id;
  return true;
}

bool DriverPackedRing::skip_used() noexcept {
  if (scanned_ == 0 && used_pending() == 0) return false;
  UsedChain ignored;
  const uint64_t bad = bad_used_;
  if (valid_id(desc_[last_used_].id)) {
    pop_used(&ignored);  // a good buffer the caller gave up on: still free its descriptors
  } else {
    --scanned_;
    advance(&last_used_, &used_wrap_, 1);
    scanned_descs_ -= 1;
  }
  bad_used_ = bad + 1;
  if (event_idx_ && interrupts_on_) store_relaxed(&driver_event_->off_wrap, used_pos());
  return true;
}

void DriverPackedRing::set_driver_event(uint16_t flags) noexcept {
  store_relaxed(&driver_event_->flags, flags);
}

bool DriverPackedRing::enable_interrupts() noexcept {
  interrupts_on_ = true;
  if (event_idx_) {
    store_relaxed(&driver_event_->off_wrap, used_pos());
    set_driver_event(virtio::kPackedEventDesc);
  } else {
    set_driver_event(virtio::kPackedEventEnable);
  }
  // Our request must be visible before we look for used descriptors again, or the device could
  // publish in between, read the old state and skip the interrupt we are about to sleep on.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return used_pending() != 0;
}

void DriverPackedRing::disable_interrupts() noexcept {
  interrupts_on_ = false;
  set_driver_event(virtio::kPackedEventDisable);
}

}  // namespace uvs::frontend
