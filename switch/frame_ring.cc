// SPDX-License-Identifier: MIT
// FrameRing: copying frames into slot records and reading runs of them back as iovecs.
#include "switch/frame_ring.h"

#include <algorithm>

namespace uvs::bridge {

FrameRing::FrameRing(size_t min_slots) : ring_(std::max(min_slots, 2 * kMaxSlotsPerFrame)) {}

FrameRing::PushResult FrameRing::push(const port::Frame& f, uint16_t port, uint32_t gen) noexcept {
  if (f.len > port::kMaxFrameLen) return PushResult::kTooBig;
  const size_t nslots = f.len == 0 ? 1 : (f.len + kFrameSlotData - 1) / kFrameSlotData;
  if (ring_.free_count(pending_ + nslots) < pending_ + nslots) return PushResult::kFull;
  size_t copied = 0;
  for (size_t s = 0; s < nslots; ++s) {
    FrameSlot& slot = ring_.producer_slot(pending_ + s);
    copied += f.copy_out(copied, slot.data, std::min<size_t>(kFrameSlotData, f.len - copied));
  }
  FrameSlot& first = ring_.producer_slot(pending_);
  first.len = uint32_t(copied);  // a port whose segments are shorter than len sends what it has
  first.port = port;
  first.nslots = uint16_t(nslots);
  first.gen = gen;
  first.ol = f.ol;
  pending_ += nslots;
  return PushResult::kOk;
}

void FrameRing::publish() noexcept {
  ring_.publish(pending_);
  pending_ = 0;
}

FrameRing::Run FrameRing::peek_run(std::span<port::Frame> frames, std::span<iovec> iov) noexcept {
  Run run;
  size_t ready = ring_.ready_count(1);
  size_t used_iov = 0;
  while (run.frames < frames.size() && run.slots < ready) {
    const FrameSlot& first = ring_.consumer_slot(run.slots);
    if (run.frames == 0) {
      run.port = first.port;
      run.gen = first.gen;
    } else if (first.port != run.port || first.gen != run.gen) {
      break;
    }
    if (used_iov + first.nslots > iov.size()) break;
    port::Frame& f = frames[run.frames];
    f.iov = &iov[used_iov];
    f.iovcnt = first.nslots;
    f.len = first.len;
    f.ol = first.ol;
    size_t left = first.len;
    for (size_t s = 0; s < first.nslots; ++s) {
      FrameSlot& slot = ring_.consumer_slot(run.slots + s);
      const size_t take = std::min(left, kFrameSlotData);
      iov[used_iov++] = iovec{slot.data, take};
      left -= take;
    }
    run.slots += first.nslots;
    ++run.frames;
  }
  return run;
}

}  // namespace uvs::bridge
