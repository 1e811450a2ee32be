// SPDX-License-Identifier: MIT
// DriverVirtqueue: descriptor free list, avail publishing, used reaping and notification rules.
#include "netback/frontend/driver_virtqueue.h"

#include <atomic>
#include <cstring>

#include "netback/frontend/ring_access.h"

namespace uvs::frontend {

namespace virtio = netback::virtio;

namespace {

constexpr uint64_t kUsedAlign = 4096;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

}  // namespace

RingPlacement DriverVirtqueue::layout(uint64_t base_gpa, uint32_t size) noexcept {
  RingPlacement p;
  p.desc_gpa = base_gpa;
  p.avail_gpa = base_gpa + virtio::desc_table_bytes(size);
  p.used_gpa = align_up(p.avail_gpa + virtio::avail_ring_bytes(size), kUsedAlign);
  return p;
}

uint64_t DriverVirtqueue::footprint(uint32_t size) noexcept {
  RingPlacement p = layout(0, size);
  return p.used_gpa + virtio::used_ring_bytes(size);
}

Status DriverVirtqueue::init(GuestRam& ram, uint32_t size, RingPlacement placement, bool event_idx) {
  if (size == 0 || size > virtio::kMaxQueueSize || (size & (size - 1)) != 0) {
    return Status::fail(FrontendError::kInvalidArgument, "queue size must be a power of two <= 32768");
  }
  auto* desc = ram.host(placement.desc_gpa, virtio::desc_table_bytes(size));
  auto* avail = ram.host(placement.avail_gpa, virtio::avail_ring_bytes(size));
  auto* used = ram.host(placement.used_gpa, virtio::used_ring_bytes(size));
  if (desc == nullptr || avail == nullptr || used == nullptr || placement.desc_gpa % 16 != 0 ||
      placement.avail_gpa % 2 != 0 || placement.used_gpa % 4 != 0) {
    return Status::fail(FrontendError::kInvalidArgument, "ring placement outside guest memory or misaligned");
  }
  packed_mode_ = false;
  ram_ = &ram;
  size_ = size;
  mask_ = static_cast<uint16_t>(size - 1);
  event_idx_ = event_idx;
  placement_ = placement;
  desc_ = reinterpret_cast<virtio::VringDesc*>(desc);
  avail_ = reinterpret_cast<virtio::VringAvail*>(avail);
  used_ = reinterpret_cast<virtio::VringUsed*>(used);
  next_.assign(size, 0);
  chain_len_.assign(size, 0);
  token_.assign(size, 0);
  reset(0);
  return Status::success();
}

Status DriverVirtqueue::init_packed(GuestRam& ram, uint32_t size, uint64_t base_gpa, bool event_idx) {
  const RingPlacement p = DriverPackedRing::layout(base_gpa, size);
  Status s = packed_.init(ram, size, p, event_idx);
  if (!s) return s;
  packed_mode_ = true;
  ram_ = &ram;
  size_ = size;
  event_idx_ = event_idx;
  placement_ = p;
  return Status::success();
}

void DriverVirtqueue::reset(uint16_t base) noexcept {
  if (packed_mode_) return packed_.reset(base);
  std::memset(desc_, 0, virtio::desc_table_bytes(size_));
  std::memset(avail_, 0, virtio::avail_ring_bytes(size_));
  std::memset(used_, 0, virtio::used_ring_bytes(size_));
  avail_->idx = base;
  used_->idx = base;
  avail_shadow_ = avail_published_ = last_used_ = used_cache_ = base;
  for (uint32_t i = 0; i < size_; ++i) {
    next_[i] = static_cast<uint16_t>(i + 1 < size_ ? i + 1 : 0);
    chain_len_[i] = 0;
    token_[i] = 0;
  }
  free_head_ = 0;
  num_free_ = size_;
  interrupts_on_ = true;
  bad_used_ = 0;
  if (event_idx_) store_relaxed(used_event_ptr(), base);
}

int32_t DriverVirtqueue::alloc_descs(uint32_t n) noexcept {
  if (n == 0 || n > num_free_) return kNoHead;
  uint16_t head = free_head_;
  uint16_t cur = head;
  for (uint32_t i = 1; i < n; ++i) cur = next_[cur];
  free_head_ = next_[cur];
  num_free_ -= n;
  return head;
}

void DriverVirtqueue::push_head(uint16_t head, uint32_t token, uint16_t ndescs) noexcept {
  chain_len_[head] = ndescs;
  token_[head] = token;
  avail_->ring[avail_shadow_ & mask_] = head;
  ++avail_shadow_;
}

int32_t DriverVirtqueue::add_chain(std::span<const DescSegment> segs, uint32_t token) noexcept {
  if (packed_mode_) return packed_.add_chain(segs, token);
  int32_t head = alloc_descs(static_cast<uint32_t>(segs.size()));
  if (head == kNoHead) return kNoHead;
  uint16_t cur = static_cast<uint16_t>(head);
  for (size_t i = 0; i < segs.size(); ++i) {
    virtio::VringDesc& d = desc_[cur];
    d.addr = segs[i].gpa;
    d.len = segs[i].len;
    d.flags = segs[i].device_writable ? virtio::kDescFWrite : 0;
    if (i + 1 < segs.size()) {
      d.flags |= virtio::kDescFNext;
      d.next = next_[cur];
      cur = next_[cur];
    } else {
      d.next = 0;
    }
  }
  push_head(static_cast<uint16_t>(head), token, static_cast<uint16_t>(segs.size()));
  return head;
}

int32_t DriverVirtqueue::add_indirect(std::span<const DescSegment> segs, uint64_t table_gpa,
                                      uint32_t token) noexcept {
  if (packed_mode_) return packed_.add_indirect(segs, table_gpa, token);
  if (segs.empty() || segs.size() > size_) return kNoHead;
  // The table is guest memory the caller reserved, possibly in another region than the ring.
  auto* table = reinterpret_cast<virtio::VringDesc*>(
      ram_->host(table_gpa, segs.size() * sizeof(virtio::VringDesc)));
  if (table == nullptr) return kNoHead;
  int32_t head = alloc_descs(1);
  if (head == kNoHead) return kNoHead;
  // Inside a table `next` indexes the table itself (§2.7.5.3.2).
  for (size_t i = 0; i < segs.size(); ++i) {
    table[i].addr = segs[i].gpa;
    table[i].len = segs[i].len;
    table[i].flags = segs[i].device_writable ? virtio::kDescFWrite : 0;
    table[i].next = 0;
    if (i + 1 < segs.size()) {
      table[i].flags |= virtio::kDescFNext;
      table[i].next = static_cast<uint16_t>(i + 1);
    }
  }
  virtio::VringDesc& d = desc_[head];
  d.addr = table_gpa;
  d.len = static_cast<uint32_t>(segs.size() * sizeof(virtio::VringDesc));
  d.flags = virtio::kDescFIndirect;
  d.next = 0;
  push_head(static_cast<uint16_t>(head), token, 1);
  return head;
}

bool DriverVirtqueue::publish() noexcept {
  if (packed_mode_) return packed_.publish();
  uint16_t old_idx = avail_published_;
  uint16_t new_idx = avail_shadow_;
  if (old_idx == new_idx) return false;
  // Ring entries and descriptors must be visible before the index (§2.7.13.2).
  store_release(&avail_->idx, new_idx);
  avail_published_ = new_idx;
  // The index store must be ordered before reading the device's suppression state, or we may
  // miss a kick the device asked for just after we looked (§2.7.13.4).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (event_idx_) return virtio::vring_need_event(load_relaxed(avail_event_ptr()), new_idx, old_idx);
  return (load_relaxed(&used_->flags) & virtio::kUsedFNoNotify) == 0;
}

uint16_t DriverVirtqueue::used_pending() noexcept {
  if (packed_mode_) return packed_.used_pending();
  used_cache_ = load_acquire(&used_->idx);
  return static_cast<uint16_t>(used_cache_ - last_used_);
}

bool DriverVirtqueue::pop_used(UsedChain* out) noexcept {
  if (packed_mode_) return packed_.pop_used(out);
  for (;;) {
    if (last_used_ == used_cache_) {
      used_cache_ = load_acquire(&used_->idx);
      if (last_used_ == used_cache_) return false;
    }
    virtio::VringUsedElem e = used_->ring[last_used_ & mask_];
    ++last_used_;
    if (event_idx_ && interrupts_on_) store_relaxed(used_event_ptr(), last_used_);
    if (e.id >= size_ || chain_len_[e.id] == 0) {
      ++bad_used_;
      continue;
    }
    uint16_t head = static_cast<uint16_t>(e.id);
    uint16_t tail = head;
    for (uint16_t i = 1; i < chain_len_[head]; ++i) tail = next_[tail];
    next_[tail] = free_head_;
    free_head_ = head;
    num_free_ += chain_len_[head];
    chain_len_[head] = 0;
    out->token = token_[head];
    out->len = e.len;
    out->head = head;
    return true;
  }
}

bool DriverVirtqueue::peek_used(uint16_t k, UsedChain* out) noexcept {
  if (packed_mode_) return packed_.peek_used(k, out);
  if (static_cast<uint16_t>(used_cache_ - last_used_) <= k && used_pending() <= k) return false;
  virtio::VringUsedElem e = used_->ring[static_cast<uint16_t>(last_used_ + k) & mask_];
  if (e.id >= size_ || chain_len_[e.id] == 0) return false;
  out->token = token_[e.id];
  out->len = e.len;
  out->head = static_cast<uint16_t>(e.id);
  return true;
}

bool DriverVirtqueue::skip_used() noexcept {
  if (packed_mode_) return packed_.skip_used();
  if (used_pending() == 0) return false;
  ++last_used_;
  ++bad_used_;
  if (event_idx_ && interrupts_on_) store_relaxed(used_event_ptr(), last_used_);
  return true;
}

bool DriverVirtqueue::enable_interrupts() noexcept {
  if (packed_mode_) return packed_.enable_interrupts();
  interrupts_on_ = true;
  if (event_idx_) {
    store_relaxed(used_event_ptr(), last_used_);
  } else {
    store_relaxed(&avail_->flags, 0);
  }
  // Our request must be visible before we re-check the used index, or the device could publish
  // in between, read the old used_event and skip the interrupt we are about to sleep on.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return used_pending() != 0;
}

void DriverVirtqueue::disable_interrupts() noexcept {
  if (packed_mode_) return packed_.disable_interrupts();
  interrupts_on_ = false;
  if (event_idx_) {
    // An event index just behind what we consumed is only crossed again after 2^16 entries.
    store_relaxed(used_event_ptr(), static_cast<uint16_t>(last_used_ - 1));
  } else {
    store_relaxed(&avail_->flags, virtio::kAvailFNoInterrupt);
  }
}

void DriverVirtqueue::raw_push_avail(uint16_t head) noexcept {
  avail_->ring[avail_shadow_ & mask_] = head;
  ++avail_shadow_;
}

void DriverVirtqueue::raw_store_avail_idx(uint16_t idx) noexcept {
  store_release(&avail_->idx, idx);
  avail_shadow_ = avail_published_ = idx;
}

int32_t DriverVirtqueue::raw_take_desc() noexcept { return alloc_descs(1); }

}  // namespace uvs::frontend
