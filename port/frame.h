// SPDX-License-Identifier: MIT
// Frame: one Ethernet frame as scattered segments lent by the port that produced it.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "port/offload.h"

namespace uvs::port {

/// One Ethernet frame (destination MAC first, no virtio-net header, no FCS).
///
/// The segments are *lent*: they point into the producer's memory (a guest's TX buffers, a
/// socket read buffer) and stay valid only until the FrameSink::receive_burst call that carried
/// them returns. That is what lets vhost-user to vhost-user on one thread copy guest buffer to
/// guest buffer once. A consumer that keeps a frame longer must copy it.
struct Frame {
  const iovec* iov = nullptr;  ///< segments, owned by the producer
  uint32_t iovcnt = 0;
  uint32_t len = 0;  ///< total bytes over all segments
  Offload ol;        ///< what the frame's virtio-net header said; all zero for a plain frame

  /// Copies up to `n` bytes starting at `offset` into `dst`; returns bytes copied. Never reads
  /// past the segments.
  size_t copy_out(size_t offset, void* dst, size_t n) const noexcept {
    auto* out = static_cast<uint8_t*>(dst);
    size_t done = 0;
    for (uint32_t i = 0; i < iovcnt && done < n; ++i) {
      size_t seg = iov[i].iov_len;
      if (offset >= seg) {
        offset -= seg;
        continue;
      }
      size_t take = seg - offset;
      if (take > n - done) take = n - done;
      std::memcpy(out + done, static_cast<const uint8_t*>(iov[i].iov_base) + offset, take);
      done += take;
      offset = 0;
    }
    return done;
  }
};

/// Smallest and largest Ethernet frames the ports exchange (without FCS). 65535 + header room
/// lets a NAT or tap port with MTU 65520 pass its largest frame.
inline constexpr uint32_t kMinFrameLen = 14;
inline constexpr uint32_t kMaxFrameLen = 65535 + 14 + 4;

/// Bursts never exceed this many frames; callers size their scratch arrays by it.
inline constexpr size_t kMaxBurst = 32;

}  // namespace uvs::port
