// SPDX-License-Identifier: MIT
// OffloadFallback: the switch's one software path for offloads a destination port cannot take —
// TCP/UDP segmentation of GSO frames and completion of partial checksums.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "port/frame.h"
#include "port/offload_layout.h"

namespace uvs::bridge {

/// True when a port with OffloadCap bits `caps` takes a frame with metadata `ol` as it is.
/// A GSO frame needs the GSO type's cap (and kTsoEcn with ecn); a partial checksum needs kCsum.
/// kDataValid needs nothing: a port that cannot say it just sends a frame with valid checksums.
inline bool offload_fits(const port::Offload& ol, uint32_t caps) noexcept {
  namespace cap = port::OffloadCap;
  uint32_t need = ol.needs_csum() ? cap::kCsum : 0;
  switch (ol.gso) {
    case port::Offload::Gso::kNone: break;
    case port::Offload::Gso::kTcpV4: need |= cap::kTso4; break;
    case port::Offload::Gso::kTcpV6: need |= cap::kTso6; break;
    case port::Offload::Gso::kUdpL4: need |= cap::kUso; break;
  }
  if (ol.ecn && ol.gso != port::Offload::Gso::kNone) need |= cap::kTsoEcn;
  return (need & ~caps) == 0;
}

/// Turns one frame a destination cannot take into frames it can, without allocating: the
/// output frames are a small header copy in the fallback's scratch followed by the input's own
/// segments (no payload copy), so the input frame must stay valid while the outputs are used.
///
///  * Segmentation (the port lacks the GSO type's cap): one frame per gso_size payload bytes,
///    as Linux's tcp_gso_segment / __udp_gso_segment cut them: IPv4 total length, id (+1 per
///    segment) and header checksum, IPv6 payload length, TCP sequence numbers, FIN and PSH on
///    the last segment only, CWR on the first only, UDP length; L4 checksums complete (or left
///    partial with kNeedsCsum when the port has kCsum).
///  * Completion (a partial checksum and no kCsum): the checksum is written into a copy of the
///    frame's head; a GSO frame the port takes whole (its GSO cap but no kCsum, e.g. the NAT)
///    gets its L4 and IPv4 header checksums recomputed over the whole datagram.
///
/// One per forwarding thread and nesting level; loop thread only.
class OffloadFallback {
 public:
  /// Output frames per next() call.
  static constexpr size_t kMaxOut = port::kMaxBurst;
  /// iovecs for one call's outputs; a frame with more segments than kMaxInIov is linearised.
  static constexpr size_t kIovScratch = 2048;
  static constexpr size_t kMaxInIov = 256;

  OffloadFallback();
  OffloadFallback(const OffloadFallback&) = delete;
  OffloadFallback& operator=(const OffloadFallback&) = delete;

  /// Prepares `f` for a port with `caps` (the caller checked !offload_fits). Returns why the
  /// frame must be dropped instead, or kNone; then call next() until it returns no frames.
  port::OffloadError start(const port::Frame& f, uint32_t caps) noexcept;
  /// The next frames (at most kMaxOut), valid until the next start()/next(); empty when done.
  std::span<const port::Frame> next() noexcept;
  /// True when the current frame is being segmented (false: checksum completion).
  bool segmenting() const noexcept { return segmenting_; }

 private:
  port::OffloadError start_complete() noexcept;
  /// Appends iovecs for input bytes [from, from+len) to the scratch; false when out of room.
  bool add_payload(size_t from, size_t len) noexcept;
  size_t iovs_for(size_t from, size_t len) const noexcept;
  void csum_l4(uint8_t* hdr, size_t hdr_len, size_t payload_from, size_t payload_len,
               uint16_t l4_len) noexcept;

  port::Frame in_;            // the frame being converted (its iov may be the bounce buffer)
  iovec bounce_iov_{};
  uint32_t caps_ = 0;
  bool segmenting_ = false;
  bool done_ = true;
  port::OffloadLayout l_;
  uint8_t tmpl_[port::kMaxOffloadHdr];  // the input's headers (segmentation)
  size_t pos_ = 0;                      // next payload byte to emit (segmentation)
  uint32_t seg_index_ = 0;
  uint32_t seq0_ = 0;
  uint16_t id0_ = 0;

  uint8_t hdr_[kMaxOut][port::kMaxOffloadHdr];
  iovec iov_[kIovScratch];
  size_t iov_used_ = 0;
  port::Frame out_[kMaxOut];
  std::unique_ptr<uint8_t[]> bounce_;  // kMaxFrameLen, for frames with too many segments
};

}  // namespace uvs::bridge
