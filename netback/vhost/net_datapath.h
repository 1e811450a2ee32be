// SPDX-License-Identifier: MIT
// virtio-net data path over either ring layout (split Virtq, packed PackedVirtq): guest TX chains → Frames for a sink (header stripped, zero
// copy), and Frames → guest RX buffers (header added, mergeable buffers when negotiated).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "netback/common/net_hdr.h"
#include "netback/vhost/net_queue_stats.h"
#include "netback/vhost/packed_virtq.h"
#include "netback/vhost/virtq.h"
#include "port/frame.h"
#include "port/port.h"

namespace uvs::netback {

/// Segments one TX chain may have (after splitting at region boundaries). Linux uses at most
/// MAX_SKB_FRAGS + 2 = 19; a longer legal chain is dropped (in_drop_bad_chain), not fatal.
inline constexpr uint32_t kTxMaxSegs = 64;
/// Segments of one RX chain, and descriptor chains one mergeable RX frame may use.
inline constexpr uint32_t kRxMaxSegs = 64;
inline constexpr uint32_t kRxMaxChainsPerFrame = 64;

/// Fixed scratch space for one TX burst (about 33 KiB: allocate once per port, never on the stack
/// of the data path).
struct TxScratch {
  iovec iov[port::kMaxBurst * kTxMaxSegs];
  port::Frame frames[port::kMaxBurst];
  UsedRef refs[port::kMaxBurst];
};

/// Fixed scratch space for RX.
struct RxScratch {
  iovec iov[kRxMaxSegs];           // the chain being filled
  uint64_t gpa[kRxMaxSegs];        // guest-physical address of each iov (the dirty log's key)
  iovec first_iov[kRxMaxSegs];     // the frame's first chain (holds the header)
  uint64_t first_gpa[kRxMaxSegs];
  struct Pending {
    UsedRef ref;
    uint32_t len;
    bool counts;  // a buffer the frame uses (num_buffers), not a dropped chain
  } pending[kRxMaxChainsPerFrame];
  // Small stores of a burst (headers, short frames), deferred until its chains are walked and
  // then run in order through the ring's GuestWriter.
  struct Copy {
    uint8_t* host;
    uint64_t gpa;
    const uint8_t* src;
    uint32_t len;
  };
  static constexpr uint32_t kMaxCopies = 128;
  Copy copies[kMaxCopies];
  uint32_t ncopies = 0;
  virtio::VirtioNetHdrV1 hdrs[port::kMaxBurst];  // the sources of deferred header stores
  uint16_t num_buffers[port::kMaxBurst];         // ... and of deferred num_buffers patches
};

/// Result of one burst in either direction.
struct BurstResult {
  size_t count = 0;                     ///< TX: chains consumed; RX: frames taken
  bool notify = false;                  ///< the driver wants an interrupt (call fd)
  VirtqError error = VirtqError::kOk;   ///< fatal ring error: the port must break
  const char* reason = nullptr;         ///< fatal data-path error that is not a VirtqError
  uint32_t bad_hdrs = 0;                ///< TX: frames dropped for a malformed virtio-net header
  BadHdr last_bad_hdr = BadHdr::kNone;  ///< TX: the reason of the last of them (for the log)
  bool broken() const noexcept { return is_fatal(error) || reason != nullptr; }
};

// Both bursts are written once against the ring operations Virtq and PackedVirtq share (pop,
// avail_mark/rewind, push, flush, flush_log, log_overflowed, buffer_writer) and instantiated for
// each in net_datapath.cc: no virtual call per descriptor.

/// Pops up to port::kMaxBurst chains from the guest's TX ring `vq`, strips the `hdr_len`-byte
/// virtio-net header (12 with VERSION_1, §5.1.6; it may share a descriptor with data or not)
/// after turning it into each Frame's `ol` (parse_tx_hdr, against the offloads `feat` allows),
/// hands the frames to `sink` in one receive_burst (segments point into guest memory), then
/// returns every chain on the used ring with one used-index update. Drops and counts short,
/// oversize and per-chain-invalid chains and malformed headers (by reason; result.bad_hdrs). A
/// fatal ring error returns at once (result.error) without completing anything; a used-ring
/// store outside the dirty log sets result.reason. Loop thread only; noexcept, allocation-free.
template <typename Ring>
BurstResult net_tx_burst(Ring& vq, uint32_t hdr_len, const NetOffloadFeatures& feat,
                         port::Port& from, port::FrameSink* sink, TxScratch& s,
                         NetQueueStats& stats) noexcept;

/// Copies `frames` into the guest's RX ring `vq`, each behind a `hdr_len`-byte virtio-net header
/// made from its `ol` for a guest accepting `guest_caps` (make_rx_hdr; num_buffers set when 12).
/// With `mergeable` a frame may span several chains (§5.1.6.4); without it one chain must hold
/// it all (a Linux guest without MRG_RXBUF but with GUEST_TSO posts "big" chains of 64 KiB).
/// In order, until the guest runs out of buffers. Frames that can never fit, or that need an
/// offload the guest did not accept, are dropped and counted as taken. One used-index update
/// for the whole burst. Every byte stored goes through the ring's GuestWriter, so a migration's
/// dirty log sees each page written. result.count is how many frames were taken; the caller
/// counts the rest (no buffers).
template <typename Ring>
BurstResult net_rx_burst(Ring& vq, uint32_t hdr_len, bool mergeable, uint32_t guest_caps,
                         std::span<const port::Frame> frames, RxScratch& s,
                         NetQueueStats& stats) noexcept;

}  // namespace uvs::netback
