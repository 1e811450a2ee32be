// SPDX-License-Identifier: MIT
// SpscRing: a lock-free single-producer single-consumer ring of fixed slots with batched publish.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace uvs::bridge {

inline constexpr size_t kCacheLine = 64;

/// A bounded ring between exactly one producer thread and one consumer thread.
///
/// The indices are free-running 64-bit counters (they never wrap in practice), so "full" and
/// "empty" need no spare slot. The producer owns `tail_`, the consumer owns `head_`; each sits on
/// its own cache line together with that side's cached copy of the other index, so in steady state
/// a side touches the other's line only when its cached view says the ring looks full (producer)
/// or empty (consumer) — the Lamport ring with the "cached index" refinement used by DPDK's rte_ring
/// and folly's ProducerConsumerQueue.
///
/// Memory ordering: slots are plain memory. The producer fills slots and then stores `tail_` with
/// release; the consumer loads `tail_` with acquire before reading them, so it sees the writes.
/// Symmetrically the consumer's release store of `head_` after reading slots is what lets the
/// producer reuse them. No fences are used (GCC rejects atomic_thread_fence under TSan).
///
/// Slots are handed out by reference so a caller can fill several before one publish() (one
/// release store per burst), and can read several before one release().
template <typename T>
class SpscRing {
 public:
  /// Creates a ring of at least `min_capacity` slots (rounded up to a power of two, at least 2).
  /// Allocates: control path only.
  explicit SpscRing(size_t min_capacity) {
    size_t cap = 2;
    while (cap < min_capacity) cap <<= 1;
    mask_ = cap - 1;
    slots_ = std::make_unique<T[]>(cap);
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  size_t capacity() const noexcept { return mask_ + 1; }

  // ---- producer side (one thread) ----------------------------------------------------------

  /// Slots the producer may fill now, at least `want` if that many are free. Re-reads the
  /// consumer's index only when the cached view shows fewer than `want`. Producer thread only.
  size_t free_count(size_t want = 1) noexcept {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    size_t free = capacity() - size_t(tail - head_cache_);
    if (free < want) {
      head_cache_ = head_.load(std::memory_order_acquire);
      free = capacity() - size_t(tail - head_cache_);
    }
    return free;
  }

  /// The i-th slot after the last published one; i < free_count(). Producer thread only.
  T& producer_slot(size_t i) noexcept {
    return slots_[(tail_.load(std::memory_order_relaxed) + i) & mask_];
  }

  /// Makes the next `n` filled slots visible to the consumer (one release store). n must not
  /// exceed what free_count() reported. Producer thread only.
  void publish(size_t n) noexcept {
    if (n == 0) return;
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    assert(tail + n - head_cache_ <= capacity());
    tail_.store(tail + n, std::memory_order_release);
  }

  /// Copies `v` in and publishes it; false when full. Producer thread only.
  bool try_push(const T& v) noexcept {
    if (free_count(1) == 0) return false;
    producer_slot(0) = v;
    publish(1);
    return true;
  }

  // ---- consumer side (one thread) ----------------------------------------------------------

  /// Published slots the consumer may read now. Re-reads the producer's index only when the
  /// cached view shows fewer than `want`. Consumer thread only.
  size_t ready_count(size_t want = 1) noexcept {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    size_t ready = size_t(tail_cache_ - head);
    if (ready < want) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      ready = size_t(tail_cache_ - head);
    }
    return ready;
  }

  /// The i-th unread slot; i < ready_count(). Consumer thread only.
  T& consumer_slot(size_t i) noexcept {
    return slots_[(head_.load(std::memory_order_relaxed) + i) & mask_];
  }

  /// Gives the first `n` read slots back to the producer (one release store). Consumer only.
  void release(size_t n) noexcept {
    if (n == 0) return;
    const uint64_t head = head_.load(std::memory_order_relaxed);
    assert(head + n <= tail_cache_);
    head_.store(head + n, std::memory_order_release);
  }

  /// Moves the oldest slot into `out`; false when empty. Consumer thread only.
  bool try_pop(T& out) noexcept {
    if (ready_count(1) == 0) return false;
    out = consumer_slot(0);
    release(1);
    return true;
  }

  /// Approximate fill level for statistics. Any thread; may be stale.
  size_t size_approx() const noexcept {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    return tail >= head ? size_t(tail - head) : 0;
  }

 private:
  // Producer's line: its index and its cached view of the consumer's.
  alignas(kCacheLine) std::atomic<uint64_t> tail_{0};
  uint64_t head_cache_ = 0;
  // Consumer's line.
  alignas(kCacheLine) std::atomic<uint64_t> head_{0};
  uint64_t tail_cache_ = 0;
  // Read-only after construction.
  alignas(kCacheLine) size_t mask_ = 0;
  std::unique_ptr<T[]> slots_;
};

}  // namespace uvs::bridge
