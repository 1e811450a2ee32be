// SPDX-License-Identifier: MIT
// Switch statistics: single-writer counters the data path bumps, and the snapshots stats() returns.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "port/offload_layout.h"

namespace uvs::bridge {

/// A counter with exactly one writing thread and any number of readers. add() is a relaxed load
/// plus a relaxed store — no locked RMW on the data path — which is correct only because one
/// thread writes it; readers get a torn-free, possibly slightly stale value.
class Counter {
 public:
  /// Adds `n`. Only the counter's owning thread.
  void add(uint64_t n = 1) noexcept {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  /// Current value. Any thread.
  uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }
  /// Sets to 0. Only while no thread writes it (e.g. a free port slot).
  void reset() noexcept { v_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

/// One port lane's live counters. Written only by the lane's own loop thread: ingress runs there,
/// same-thread delivery runs there, and cross-thread frames are sent from its ring drain there.
/// "in" is port → switch, "out" is switch → port (send_burst accepted).
struct PortCounters {
  Counter in_frames, in_bytes, out_frames, out_bytes;
  Counter drop_runt;        ///< ingress frame shorter than a (tagged) Ethernet header
  Counter drop_vlan;        ///< ingress refused by the VLAN rules (tagged on access, not allowed...)
  Counter drop_filtered;    ///< unicast whose destination was learned on the ingress port
  Counter drop_no_buffers;  ///< offered to send_burst but not taken (peer's RX ring full)
  Counter drop_port_down;   ///< egress while the port reported PortState::kDown
  Counter drop_broken;      ///< egress while the port reported PortState::kBroken
  // Port security (PortGuard), on ingress.
  Counter drop_max_macs;     ///< source not learnable on the port: beyond max-macs, group or zero
  Counter drop_allowed_mac;  ///< source is not the port's allowed-mac
  Counter drop_bum_rate;     ///< broadcast, multicast or unknown unicast over bum-rate
  Counter fdb_full;          ///< frames whose new source the full FDB could not take (forwarded)
  // Offloads (Frame::ol). "in": frames the port delivered with a partial checksum / as GSO;
  // "out": frames the port took that way. sw_*: the switch's fallback did it for this port.
  Counter in_csum, in_gso, out_csum, out_gso;
  Counter sw_segmented;  ///< GSO frames cut into segments because the port lacks the GSO cap
  Counter sw_segments;   ///< segments those produced
  Counter sw_csum;       ///< partial checksums completed because the port lacks kCsum
  /// Frames dropped on the way to this port because their metadata did not match them, by
  /// port::OffloadError (index 0 unused).
  Counter drop_offload[port::kOffloadErrorCount];

  void reset() noexcept {
    for (Counter* c : {&in_frames, &in_bytes, &out_frames, &out_bytes, &drop_runt, &drop_vlan,
                       &drop_filtered, &drop_no_buffers, &drop_port_down, &drop_broken,
                       &drop_max_macs, &drop_allowed_mac, &drop_bum_rate, &fdb_full, &in_csum,
                       &in_gso, &out_csum, &out_gso, &sw_segmented, &sw_segments, &sw_csum}) {
      c->reset();
    }
    for (Counter& c : drop_offload) c.reset();
  }
};

/// One forwarding thread's live counters; written only by that thread.
struct ThreadCounters {
  Counter bursts;           ///< ingress bursts processed
  Counter flooded;          ///< frames flooded (group or unknown destination)
  Counter ring_out;         ///< frames copied into a ring toward another thread
  Counter ring_in;          ///< frames drained from rings and offered to a local port
  Counter drop_ring_full;   ///< frames dropped: the ring toward the destination thread was full
  Counter drop_too_big;     ///< frames dropped: longer than port::kMaxFrameLen
  Counter drop_stale;       ///< ring frames whose destination port was removed meanwhile
  Counter drop_inactive;    ///< ingress bursts from a port that is being removed
  Counter drop_reentry;     ///< bursts refused because ingress was nested too deeply
  Counter drop_no_scratch;  ///< frames with too many segments for the per-burst iovec scratch
};

/// Snapshot of one port (PortCounters plus identity).
struct PortStats {
  uint16_t index = 0;
  std::string name;
  unsigned thread = 0;                ///< the first lane's thread
  std::vector<unsigned> lane_threads; ///< every lane's thread, in lane order
  uint64_t in_frames = 0, in_bytes = 0, out_frames = 0, out_bytes = 0;
  uint64_t drop_runt = 0, drop_vlan = 0, drop_filtered = 0, drop_no_buffers = 0;
  uint64_t drop_port_down = 0, drop_broken = 0;
  uint64_t drop_max_macs = 0, drop_allowed_mac = 0, drop_bum_rate = 0, fdb_full = 0;
  uint64_t in_csum = 0, in_gso = 0, out_csum = 0, out_gso = 0;
  uint64_t sw_segmented = 0, sw_segments = 0, sw_csum = 0;
  uint64_t drop_offload[port::kOffloadErrorCount] = {};
};

/// Snapshot of one forwarding thread.
struct ThreadStats {
  unsigned thread = 0;
  uint64_t bursts = 0, flooded = 0, ring_out = 0, ring_in = 0;
  uint64_t drop_ring_full = 0, drop_too_big = 0, drop_stale = 0, drop_inactive = 0;
  uint64_t drop_reentry = 0, drop_no_scratch = 0;
};

/// Snapshot of the forwarding database.
struct FdbStats {
  size_t entries = 0;     ///< live entries now
  size_t capacity = 0;    ///< most entries it will hold
  uint64_t learned = 0;   ///< new entries created
  uint64_t moved = 0;     ///< a known (VLAN, MAC) seen on another port
  uint64_t aged = 0;      ///< removed by the aging sweep
  uint64_t flushed = 0;   ///< removed by a flush
  uint64_t full = 0;      ///< learn refused: table (or probe window) full
  uint64_t busy = 0;      ///< learn deferred: another thread held the insert lock
};

/// Everything `uvswitchctl stats` shows.
struct BridgeStats {
  std::vector<PortStats> ports;      ///< attached ports, by index
  std::vector<ThreadStats> threads;  ///< forwarding threads, by index
  FdbStats fdb;
};

}  // namespace uvs::bridge
