// SPDX-License-Identifier: MIT
// CaptureQueue: the bounded lock-free byte ring that carries captured frames to a writer thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "switch/spsc_ring.h"

namespace uvs::bridge {

/// One captured frame as it sits in the queue: the header, then `caplen` bytes, padded to 8.
struct CaptureRecord {
  int64_t ts_ns;    ///< CLOCK_REALTIME when the switch saw the burst
  uint32_t caplen;  ///< bytes stored (at most the snaplen)
  uint32_t len;     ///< the frame's real length
};

/// A single-producer single-consumer ring of variable-size records over a fixed byte buffer.
///
/// The producer (a port thread) reserves room for a record, fills it and commits it; records
/// become visible to the consumer (the capture's writer thread) at publish(), once per burst. A
/// record never straddles the end of the buffer: when it does not fit there, the producer skips
/// to the start, leaving a wrap marker the consumer jumps over. Counters are free-running byte
/// offsets (acquire/release on the far side's index, as in SpscRing), so full and empty need no
/// spare byte. Nothing here allocates or locks after construction.
class CaptureQueue {
 public:
  static constexpr size_t kAlign = 8;
  static constexpr size_t kHeader = sizeof(CaptureRecord);

  /// A buffer of at least `min_bytes` (rounded up to a power of two, at least 64 KiB).
  /// Allocates: control path only.
  explicit CaptureQueue(size_t min_bytes);
  CaptureQueue(const CaptureQueue&) = delete;
  CaptureQueue& operator=(const CaptureQueue&) = delete;

  size_t capacity() const noexcept { return mask_ + 1; }

  // ---- producer (one thread) ---------------------------------------------------------------

  /// Room for a record of `caplen` bytes; returns where its data goes, or nullptr when the queue
  /// is full (the caller drops the frame from the capture). Until commit() nothing is visible.
  uint8_t* reserve(uint32_t caplen) noexcept;
  /// Finishes the record reserve() returned, with its header. Producer thread only.
  void commit(const CaptureRecord& rec) noexcept;
  /// Turns a committed but unpublished record (by the pointer reserve() gave) into one the
  /// consumer skips: its len becomes 0, which no real frame has. Producer thread only.
  void cancel(uint8_t* data) noexcept {
    const uint32_t zero = 0;
    std::memcpy(data - kHeader + offsetof(CaptureRecord, len), &zero, sizeof zero);
  }
  /// Makes every committed record visible to the consumer (one release store).
  void publish() noexcept { tail_.store(tail_local_, std::memory_order_release); }

  // ---- consumer (one thread) ---------------------------------------------------------------

  /// The oldest published record and its data, or false when there is none. Consumer only.
  bool front(CaptureRecord* rec, const uint8_t** data) noexcept;
  /// Steps past the record front() returned; the space is given back at release().
  void pop() noexcept;
  /// Returns the space of every popped record to the producer (one release store).
  void release() noexcept { head_.store(head_local_, std::memory_order_release); }

  /// Bytes in use (approximate). Any thread.
  size_t used_approx() const noexcept {
    return size_t(tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_relaxed));
  }

 private:
  static size_t record_bytes(uint32_t caplen) noexcept {
    return (kHeader + caplen + kAlign - 1) & ~(kAlign - 1);
  }
  // Wrap marker: a header with this caplen means "continue at offset 0".
  static constexpr uint32_t kWrap = 0xffffffffu;

  alignas(kCacheLine) std::atomic<uint64_t> tail_{0};
  uint64_t tail_local_ = 0;  // producer: end of committed records (published or not)
  uint64_t head_cache_ = 0;  // producer's view of head_
  uint64_t reserved_at_ = 0; // producer: where the pending record starts
  alignas(kCacheLine) std::atomic<uint64_t> head_{0};
  uint64_t head_local_ = 0;  // consumer: start of the next unread record
  uint64_t tail_cache_ = 0;  // consumer's view of tail_
  alignas(kCacheLine) size_t mask_ = 0;
  std::unique_ptr<uint8_t[]> buf_;
};

}  // namespace uvs::bridge
