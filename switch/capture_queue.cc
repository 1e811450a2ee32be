// SPDX-License-Identifier: MIT
// CaptureQueue: reserving, committing and reading variable-size records in the byte ring.
#include "switch/capture_queue.h"

#include <cstring>

namespace uvs::bridge {

CaptureQueue::CaptureQueue(size_t min_bytes) {
  size_t cap = size_t{64} << 10;
  while (cap < min_bytes) cap <<= 1;
  mask_ = cap - 1;
  // Value-initialised so the sanitizers never see the consumer read bytes nobody wrote (padding).
  buf_ = std::make_unique<uint8_t[]>(cap);
}

uint8_t* CaptureQueue::reserve(uint32_t caplen) noexcept {
  const size_t need = record_bytes(caplen);
  const size_t pos = size_t(tail_local_ & mask_);
  const size_t to_end = capacity() - pos;
  // A record that does not fit before the end starts at 0; the bytes up to the end are lost.
  const size_t skip = to_end < need ? to_end : 0;
  if (need + skip > capacity()) return nullptr;
  if (tail_local_ + skip + need - head_cache_ > capacity()) {
    head_cache_ = head_.load(std::memory_order_acquire);
    if (tail_local_ + skip + need - head_cache_ > capacity()) return nullptr;
  }
  if (skip) {
    // Room for a header is guaranteed: positions and sizes are multiples of 8 and a header is
    // 16 bytes, so a gap of 8 is the only one too small; the consumer treats it as a wrap too.
    if (to_end >= kHeader) {
      CaptureRecord wrap{0, kWrap, 0};
      std::memcpy(&buf_[pos], &wrap, kHeader);
    }
    tail_local_ += skip;
  }
  reserved_at_ = tail_local_;
  return &buf_[size_t(reserved_at_ & mask_) + kHeader];
}

void CaptureQueue::commit(const CaptureRecord& rec) noexcept {
  std::memcpy(&buf_[size_t(reserved_at_ & mask_)], &rec, kHeader);
  tail_local_ = reserved_at_ + record_bytes(rec.caplen);
}

bool CaptureQueue::front(CaptureRecord* rec, const uint8_t** data) noexcept {
  for (;;) {
    if (head_local_ == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head_local_ == tail_cache_) return false;
    }
    const size_t pos = size_t(head_local_ & mask_);
    const size_t to_end = capacity() - pos;
    if (to_end < kHeader) {
      head_local_ += to_end;
      continue;
    }
    std::memcpy(rec, &buf_[pos], kHeader);
    if (rec->caplen == kWrap) {
      head_local_ += to_end;
      continue;
    }
    *data = &buf_[pos + kHeader];
    return true;
  }
}

void CaptureQueue::pop() noexcept {
  CaptureRecord rec;
  std::memcpy(&rec, &buf_[size_t(head_local_ & mask_)], kHeader);
  head_local_ += record_bytes(rec.caplen);
}

}  // namespace uvs::bridge
