// SPDX-License-Identifier: MIT
// FrameRing: frames copied between two forwarding threads through an SpscRing of 2 KiB slots.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "port/frame.h"
#include "switch/spsc_ring.h"

namespace uvs::bridge {

/// One 2 KiB ring slot. A frame occupies ceil(len / kFrameSlotData) consecutive slots; the first
/// carries the record header. 2 KiB holds a full 1518-byte tagged frame in one slot (the common
/// case) while a 64 KiB NAT/tap frame takes 33 slots instead of forcing every slot to be 64 KiB.
struct alignas(kCacheLine) FrameSlot {
  uint32_t len = 0;      ///< frame length (first slot of a record)
  uint16_t port = 0;     ///< destination port index
  uint16_t nslots = 0;   ///< slots the record spans
  uint32_t gen = 0;      ///< destination port's generation when queued (stale after removal)
  port::Offload ol;      ///< the frame's offload metadata (first slot of a record)
  uint32_t reserved = 0;
  uint8_t data[2048 - 32];
};
static_assert(sizeof(FrameSlot) == 2048);
inline constexpr size_t kFrameSlotData = sizeof(FrameSlot::data);
/// Slots the largest frame needs; a ring has at least twice this many.
inline constexpr size_t kMaxSlotsPerFrame =
    (port::kMaxFrameLen + kFrameSlotData - 1) / kFrameSlotData;

/// A one-way frame channel from one forwarding thread (producer) to another (consumer).
/// The producer copies each frame in (the lent segments die when its burst returns) and publishes
/// once per burst; the consumer reads runs of frames for one port straight from the slots (one
/// iovec per slot, no second copy) and releases them after send_burst.
class FrameRing {
 public:
  /// Allocates `min_slots` slots (at least 2 * kMaxSlotsPerFrame, rounded to a power of two).
  explicit FrameRing(size_t min_slots);

  enum class PushResult { kOk, kFull, kTooBig };

  /// Copies `f` for port `port` (generation `gen`) into unpublished slots. kTooBig for frames
  /// over port::kMaxFrameLen, kFull when not enough slots are free. Producer thread only.
  PushResult push(const port::Frame& f, uint16_t port, uint32_t gen) noexcept;
  /// Makes everything pushed since the last publish visible (one release store). Producer only.
  void publish() noexcept;
  /// True when frames were pushed but not published. Producer thread only.
  bool has_unpublished() const noexcept { return pending_ != 0; }

  /// A run of consecutive frames for the same (port, gen).
  struct Run {
    uint16_t port = 0;
    uint32_t gen = 0;
    size_t frames = 0;  ///< 0: ring empty
    size_t slots = 0;   ///< pass to release() once the frames have been sent
  };
  /// Describes up to frames.size() published frames for the same destination as Frames whose
  /// segments point into the ring (iovecs taken from `iov`). They stay valid until release().
  /// Consumer thread only.
  Run peek_run(std::span<port::Frame> frames, std::span<iovec> iov) noexcept;
  /// Frees the slots of a run. Consumer thread only.
  void release(size_t slots) noexcept { ring_.release(slots); }

  size_t capacity() const noexcept { return ring_.capacity(); }
  /// Approximate slots in use (published). Any thread; for statistics.
  size_t used_approx() const noexcept { return ring_.size_approx(); }

 private:
  SpscRing<FrameSlot> ring_;
  size_t pending_ = 0;  // producer: slots filled but not published
};

}  // namespace uvs::bridge
