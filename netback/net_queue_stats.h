// SPDX-License-Identifier: MIT
// NetQueueStats: per-queue-pair frame/byte counters and drops by reason of a vhost-user-net port.
#pragma once

#include <cstdint>

namespace uvs::netback {

/// Counters of one queue pair. "in" is guest TX → our sink; "out" is send_burst → guest RX.
/// Written on the port's loop thread only; read them there (or through a loop hop).
struct NetQueueStats {
  uint64_t in_frames = 0;           ///< frames taken from the guest's TX ring and delivered
  uint64_t in_bytes = 0;            ///< their Ethernet bytes (virtio-net header excluded)
  uint64_t in_drop_bad_chain = 0;   ///< dropped chains: too many segments, zero-length descriptor
  uint64_t in_drop_too_short = 0;   ///< chains shorter than header + Ethernet header
  uint64_t in_drop_too_big = 0;     ///< frames above port::kMaxFrameLen
  uint64_t in_drop_no_sink = 0;     ///< frames dropped because no sink was set
  uint64_t out_frames = 0;          ///< frames copied into the guest's RX buffers
  uint64_t out_bytes = 0;           ///< their Ethernet bytes
  uint64_t out_drop_no_buffers = 0; ///< frames refused because the guest posted no RX buffers
  uint64_t out_drop_too_big = 0;    ///< frames that did not fit the guest's buffers
  uint64_t out_drop_bad_chain = 0;  ///< RX chains returned unused (too many segments, zero length)
  uint64_t kicks = 0;               ///< guest notifications (kick eventfd reads) on either ring
  uint64_t calls = 0;               ///< interrupts we sent (call eventfd writes) on either ring
  uint64_t tx_bursts = 0;           ///< non-empty TX bursts handed to the sink

  /// Adds `o` field by field.
  void add(const NetQueueStats& o) noexcept {
    in_frames += o.in_frames;
    in_bytes += o.in_bytes;
    in_drop_bad_chain += o.in_drop_bad_chain;
    in_drop_too_short += o.in_drop_too_short;
    in_drop_too_big += o.in_drop_too_big;
    in_drop_no_sink += o.in_drop_no_sink;
    out_frames += o.out_frames;
    out_bytes += o.out_bytes;
    out_drop_no_buffers += o.out_drop_no_buffers;
    out_drop_too_big += o.out_drop_too_big;
    out_drop_bad_chain += o.out_drop_bad_chain;
    kicks += o.kicks;
    calls += o.calls;
    tx_bursts += o.tx_bursts;
  }
};

}  // namespace uvs::netback
