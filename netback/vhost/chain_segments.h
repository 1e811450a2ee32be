// SPDX-License-Identifier: MIT
// ChainSegments: what every descriptor walk (split or packed ring) does with each buffer it
// finds: the checks the virtio spec puts on a chain, and the translation of its guest-physical
// ranges into host iovecs plus their guest-physical addresses (the dirty log's key).
#pragma once

#include <sys/uio.h>

#include <cstdint>

#include "netback/vhost/guest_memory.h"
#include "netback/vhost/virtq_chain.h"

namespace uvs::netback {

/// Accumulates the buffers of one descriptor chain into `iov[0, capacity)` (and `gpas`, if
/// given) through GuestMemory, the only translation from guest addresses to host pointers.
/// Data path: noexcept, no allocation; one instance per chain walked.
class ChainSegments {
 public:
  ChainSegments(const GuestMemory* mem, iovec* iov, uint32_t capacity, uint64_t* gpas,
                VirtqChain* chain) noexcept
      : mem_(mem), iov_(iov), capacity_(capacity), gpas_(gpas), chain_(chain) {}

  /// Adds one buffer of `len` bytes at guest-physical `addr`. Returns kOk, or the fatal error
  /// that breaks the ring: a zero length, a chain of 4 GiB or more, a device-readable buffer
  /// after a writable one (the "Scatter-Gather Support" rule of either layout), or a byte
  /// outside guest memory.
  /// Past `capacity` segments the rest is only checked (so a bad address further on is still
  /// found) and finish() reports kTooManySegments.
  VirtqError add(uint64_t addr, uint32_t len, bool writable) noexcept {
    if (len == 0) return VirtqError::kZeroLength;
    total_ += len;
    if (total_ >= kChainLimit) return VirtqError::kChainTooLong;
    if (!writable && seen_writable_) return VirtqError::kReadableAfterWritable;
    seen_writable_ |= writable;
    if (!overflow_) {
      bool needed_more = false;
      int k = mem_->gpa_to_iov(addr, len, iov_ + n_, static_cast<int>(capacity_ - n_),
                               &needed_more, gpas_ ? gpas_ + n_ : nullptr);
      if (k >= 0) {
        n_ += static_cast<uint32_t>(k);
        if (writable) {
          chain_->writable += static_cast<uint32_t>(k);
          chain_->writable_len += len;
        } else {
          chain_->readable += static_cast<uint32_t>(k);
          chain_->readable_len += len;
        }
        return VirtqError::kOk;
      }
      if (!needed_more) return VirtqError::kUnmapped;
      overflow_ = true;
    }
    return mapped(addr, len) ? VirtqError::kOk : VirtqError::kUnmapped;
  }

  /// The chain ended: kOk, or kTooManySegments when it did not fit in `capacity`.
  VirtqError finish() const noexcept {
    return overflow_ ? VirtqError::kTooManySegments : VirtqError::kOk;
  }

 private:
  static constexpr uint64_t kChainLimit = uint64_t{1} << 32;

  bool mapped(uint64_t gpa, uint64_t len) const noexcept {
    // Same translation as gpa_to_iov(), without storing segments. gpa + len cannot wrap here:
    // every chunk translated is inside a region, and regions do not wrap.
    while (len > 0) {
      uint64_t chunk = len;
      if (!mem_->gpa_to_host(gpa, &chunk)) return false;
      gpa += chunk;
      len -= chunk;
    }
    return true;
  }

  const GuestMemory* mem_;
  iovec* iov_;
  uint32_t capacity_;
  uint64_t* gpas_;
  VirtqChain* chain_;
  uint32_t n_ = 0;
  bool seen_writable_ = false;
  bool overflow_ = false;
  uint64_t total_ = 0;
};

}  // namespace uvs::netback
