// SPDX-License-Identifier: MIT
// VirtqChain and VirtqError: what a descriptor walk yields and how it fails, shared by the split
// (Virtq) and packed (PackedVirtq) ring layouts and the data path written against both.
#pragma once

#include <cstdint>

namespace uvs::netback {

/// A popped chain as the used ring takes it back: the split ring's head index or the packed
/// ring's buffer id, and the ring entries the chain occupied (virtio 1.1 §2.7 "Next Flag:
/// Descriptor Chaining": the device skips that many entries after the chain's used descriptor).
struct UsedRef {
  uint16_t id = 0;
  uint16_t ndescs = 0;
};

/// What pop() found. Three groups: kOk / kEmpty; per-chain problems that drop that one chain
/// (the queue stays usable; the chain must still be returned with push(chain.ref(), 0)); and
/// fatal ones that mean the driver broke the ring (the port must stop using the queue).
enum class VirtqError : uint8_t {
  kOk,
  kEmpty,  ///< nothing available
  // Drop the chain, keep the queue (is_fatal() is false).
  kTooManySegments,  ///< legal but more segments than the caller's iovec capacity
  // Fatal (is_fatal() is true).
  kNotReady,               ///< pop() on a queue that was never set up
  kZeroLength,             ///< a zero-length buffer descriptor
  kAvailIdxJump,           ///< avail idx moved more than the ring size past last_avail_idx
  kHeadOutOfRange,         ///< avail ring entry >= queue size
  kNextOutOfRange,         ///< desc.next >= table size
  kChainLoop,              ///< more descriptors visited than the table holds
  kUnmapped,               ///< a buffer lies (partly) outside guest memory
  kChainTooLong,           ///< total length >= 4 GiB
  kReadableAfterWritable,  ///< §2.7.4.2: device-readable descriptors must come first
  kIndirectNotNegotiated,  ///< INDIRECT flag without VIRTIO_F_RING_INDIRECT_DESC
  kIndirectBadSize,        ///< indirect table length 0, not a multiple of 16, or too big
  kIndirectNested,         ///< INDIRECT inside an indirect table (§2.7.5.3.1)
  kIndirectWithNext,       ///< INDIRECT and NEXT on one descriptor (§2.7.5.3.1)
  kIndirectUnmapped,       ///< the indirect table is not inside one guest memory region
  kChainLongerThanRing,    ///< packed ring: a chain of more descriptors than the ring holds
  kChainNotAvailable,      ///< packed ring: a chain continues into a descriptor not made available
};

/// Readable name ("descriptor chain loops", ...). Never nullptr.
const char* to_string(VirtqError e) noexcept;

/// True for errors that mean the ring is broken (not kOk/kEmpty and not a per-chain drop).
constexpr bool is_fatal(VirtqError e) noexcept { return e >= VirtqError::kNotReady; }

/// One popped descriptor chain: iov[0, readable) are device-readable segments, iov[readable,
/// readable + writable) device-writable ones. Lengths are byte totals of each kind. ref() is what
/// push() needs to return it.
struct VirtqChain {
  uint16_t head = 0;    ///< split ring: the head index; packed ring: the buffer id
  uint16_t ndescs = 0;  ///< ring entries the chain occupies (a packed ring skips them when used)
  uint32_t readable = 0;
  uint32_t writable = 0;
  uint64_t readable_len = 0;
  uint64_t writable_len = 0;

  /// How to return this chain on the used ring.
  UsedRef ref() const noexcept { return {head, ndescs}; }
};

/// Which negotiated features the ring honours.
struct VirtqFeatures {
  bool event_idx = false;
  bool indirect = false;
  bool notify_on_empty = false;
};

}  // namespace uvs::netback
