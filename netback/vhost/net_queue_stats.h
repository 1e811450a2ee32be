// SPDX-License-Identifier: MIT
// NetQueueStats: per-queue-pair frame/byte counters and drops by reason of a vhost-user-net port.
#pragma once

#include <cstdint>

#include "netback/common/net_hdr.h"

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
  // Offloads, counted per frame (a GSO frame also counts as in/out_csum).
  uint64_t in_csum = 0;             ///< guest frames with a partial checksum (NEEDS_CSUM)
  uint64_t in_tso4 = 0;             ///< guest TCP/IPv4 GSO frames
  uint64_t in_tso6 = 0;             ///< guest TCP/IPv6 GSO frames
  uint64_t in_uso = 0;              ///< guest UDP GSO frames
  uint64_t in_ecn = 0;              ///< guest GSO frames with the ECN bit
  uint64_t out_csum = 0;            ///< frames delivered with NEEDS_CSUM
  uint64_t out_data_valid = 0;      ///< frames delivered with DATA_VALID
  uint64_t out_tso4 = 0;            ///< TCP/IPv4 GSO frames delivered
  uint64_t out_tso6 = 0;
  uint64_t out_uso = 0;
  uint64_t out_ecn = 0;
  uint64_t out_drop_offload = 0;    ///< frames needing an offload the guest did not accept
  /// Guest frames dropped for a malformed virtio-net header, indexed by BadHdr (0 unused).
  uint64_t in_drop_bad_hdr[kBadHdrReasons] = {};

  /// Sum of in_drop_bad_hdr.
  uint64_t in_drop_bad_hdr_total() const noexcept {
    uint64_t t = 0;
    for (uint64_t v : in_drop_bad_hdr) t += v;
    return t;
  }

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
    in_csum += o.in_csum;
    in_tso4 += o.in_tso4;
    in_tso6 += o.in_tso6;
    in_uso += o.in_uso;
    in_ecn += o.in_ecn;
    out_csum += o.out_csum;
    out_data_valid += o.out_data_valid;
    out_tso4 += o.out_tso4;
    out_tso6 += o.out_tso6;
    out_uso += o.out_uso;
    out_ecn += o.out_ecn;
    out_drop_offload += o.out_drop_offload;
    for (uint32_t i = 0; i < kBadHdrReasons; ++i) in_drop_bad_hdr[i] += o.in_drop_bad_hdr[i];
  }
};

}  // namespace uvs::netback
