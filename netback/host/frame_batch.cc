// SPDX-License-Identifier: MIT
// FrameBatch: slot allocation and frame bookkeeping.
#include "netback/host/frame_batch.h"

#include <cassert>

namespace uvs::netback {

FrameBatch::FrameBatch(size_t slot_size)
    // make_unique_for_overwrite: no zeroing, so untouched slot pages never become resident
    // (32 slots of a 64 KiB frame are 2 MiB per port, almost all of it unused with MTU 1500).
    : slot_size_(slot_size), mem_(std::make_unique_for_overwrite<uint8_t[]>(kSlots * slot_size)) {
  for (size_t i = 0; i < kSlots; ++i) {
    slot_iov_[i] = iovec{slot(i), slot_size_};
  }
}

void FrameBatch::add(size_t slot_index, size_t offset, uint32_t len,
                     const port::Offload& ol) noexcept {
  assert(slot_index < kSlots && count_ < kSlots);
  assert(offset + len <= slot_size_);
  frame_iov_[count_] = iovec{slot(slot_index) + offset, len};
  frames_[count_] = port::Frame{&frame_iov_[count_], 1, len, ol};
  ++count_;
}

}  // namespace uvs::netback
