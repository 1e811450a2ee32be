// SPDX-License-Identifier: MIT
// Forwarder: one forwarding thread's data path — learn, look up, flood, deliver, drain rings.
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "eventloop/bottom_half.h"
#include "eventloop/event_loop.h"
#include "port/frame.h"
#include "switch/fdb.h"
#include "switch/frame_ring.h"
#include "switch/offload_fallback.h"
#include "switch/port_slot.h"
#include "switch/switch_stats.h"
#include "switch/vlan.h"

namespace uvs::bridge {

/// The per-thread half of the bridge. Every forwarding thread (event loop) has one; it runs the
/// ingress bursts of the ports on that thread and sends to them, and owns the rings other threads
/// fill toward it.
///
/// Threading: ingress(), drain and the activate/deactivate calls run on the forwarder's loop
/// thread only (the bridge reaches them through run_in_loop_sync). Other threads only push into
/// inbox(src) from thread `src` and schedule the drain bottom half.
///
/// Delivery: a destination port with a lane on this thread gets the lent frames (or
/// allocation-free VLAN views of them) directly through that lane's send_burst — for vhost-user
/// to vhost-user that is the single guest-to-guest copy. A destination with no lane here gets a
/// copy in the ring toward one of its lanes' threads, then one BottomHalf::schedule() per
/// destination thread per burst. With several such lanes, the frame's flow hash picks one, so a
/// flow always crosses the same ring and stays in order.
class Forwarder {
 public:
  /// Nested ingress levels (a send_burst that synchronously produces frames, e.g. a NAT port
  /// answering ARP inside slirp_input). Deeper nesting drops the burst (drop_reentry).
  static constexpr size_t kMaxDepth = 2;
  /// Per-burst iovec scratch for VLAN views (header + the original segments).
  static constexpr size_t kIovScratch = 2048;
  /// Frames one drain run takes from each ring before yielding to the loop.
  static constexpr size_t kDrainBudget = 256;

  /// Creates the forwarder of thread `thread` (of `nthreads`) on `loop`, with no inbox rings yet:
  /// the bridge installs one per source thread that can send here (install_inbox). `ports` is
  /// the bridge's port table. Control path.
  Forwarder(unsigned thread, ev::EventLoop& loop, std::span<PortSlot> ports, Fdb& fdb,
            size_t nthreads);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  /// Tells the forwarder about every forwarder (index = thread). Control path, before traffic.
  void set_peers(std::span<Forwarder* const> peers);

  /// Forwards a burst received on lane `lane` (which runs on this thread) of port `in`. Loop
  /// thread only; never blocks or allocates. A port that is not active here (being removed) has
  /// its burst dropped.
  void ingress(PortIndex in, uint8_t lane, std::span<const port::Frame> frames) noexcept;
  void ingress(PortIndex in, std::span<const port::Frame> frames) noexcept {
    ingress(in, 0, frames);
  }

  /// Makes port `p` a possible destination (and, for its lane on this thread, a source) on this
  /// thread. Loop thread only.
  void activate(PortIndex p);
  /// Stops using port `p`; after this returns the thread holds no reference to it. Loop thread.
  void deactivate(PortIndex p);

  /// Installs the ring thread `src` fills toward this thread. Loop thread only (so the drain,
  /// which runs here, never sees it change), before any port on `src` can send to this thread.
  void install_inbox(unsigned src, std::unique_ptr<FrameRing> ring);

  /// Destroys the drain bottom half. Loop thread (or loop not running); after no other thread
  /// can schedule it any more. Called by the bridge before destruction.
  void shutdown();

  /// The ring thread `src` fills toward this thread. Producer side: thread `src` only, and only
  /// once the bridge installed it (it does so before activating a destination port for `src`).
  FrameRing& inbox(unsigned src) { return *inbox_[src]; }
  ev::EventLoop& loop() { return *loop_; }
  unsigned thread() const { return thread_; }
  const ThreadCounters& counters() const { return counters_; }

 private:
  struct Scratch {
    uint8_t hdr[port::kMaxBurst][kVlanHdrLen];
    IngressClass cls[port::kMaxBurst];
    port::Frame view[port::kMaxBurst][2];  // by EgressForm
    EgressHeader view_hdr[port::kMaxBurst][2];
    bool have_view[port::kMaxBurst][2];
    std::array<iovec, kIovScratch> iov;
    size_t iov_used = 0;
    port::Frame send[port::kMaxBurst];
    std::vector<uint8_t> out_count;                                 // [max_ports]
    std::vector<std::array<uint8_t, port::kMaxBurst>> out_frames;  // [max_ports]
    std::vector<PortIndex> touched;                                 // capacity max_ports
    std::vector<uint8_t> ring_dirty;      // [nthreads]: published at the end of the burst
    std::vector<unsigned> dirty_threads;  // those threads, capacity nthreads
  };

  void ingress_chunk(PortIndex in, PortLane& src, std::span<const port::Frame> frames,
                     Scratch& s) noexcept;
  /// Applies the port's source rules (allowed-mac, max-macs) and learns the source. Returns the
  /// counter of the reason its frames drop, or null when they pass.
  Counter* admit_source(PortLane& src, PortIndex in, uint16_t vid, const uint8_t* mac,
                        int64_t now) noexcept;
  void flood(Scratch& s, size_t i, PortIndex in, uint16_t vid) noexcept;
  void enqueue(Scratch& s, PortIndex out, size_t i) noexcept;
  const port::Frame* view(Scratch& s, const port::Frame& f, size_t i, EgressForm form) noexcept;
  void deliver(Scratch& s, std::span<const port::Frame> frames, PortIndex p) noexcept;
  /// Copies `f` into the ring toward `thread` for port `p`; counts what it could not queue.
  void push_remote(Scratch& s, const port::Frame& f, PortIndex p, uint32_t gen,
                   unsigned thread) noexcept;
  void send_local(PortLane& d, std::span<const port::Frame> frames) noexcept;
  /// send_burst plus capture and counters; returns how many the port took.
  size_t send_to_port(PortLane& d, std::span<const port::Frame> frames) noexcept;
  /// Hands frames that need the software fallback to d one converted chunk at a time.
  /// Returns false when the port stopped taking frames (the rest is counted as dropped).
  bool send_fallback(PortLane& d, const port::Frame& f, uint32_t caps) noexcept;
  void drain() noexcept;

  unsigned thread_;
  ev::EventLoop* loop_;
  std::span<PortSlot> ports_;
  Fdb& fdb_;
  std::vector<Forwarder*> peers_;
  std::vector<std::unique_ptr<FrameRing>> inbox_;  // [src thread]; null until installed
  std::vector<unsigned> sources_;                  // threads with an inbox here; loop thread
  std::unique_ptr<ev::BottomHalf> drain_bh_;

  // Loop-thread-only state.
  std::vector<uint8_t> active_;         // [max_ports]
  std::vector<uint8_t> lane_here_;      // [max_ports]: the port's lane on this thread, or kNoLane
  std::vector<PortIndex> active_list_;  // active ports, capacity max_ports
  std::unique_ptr<Scratch> scratch_[kMaxDepth];
  size_t depth_ = 0;
  // One fallback per nesting level: a send_burst may synchronously produce frames (the NAT
  // answering inside slirp_input) that need converting for another port.
  std::unique_ptr<OffloadFallback> fallback_[kMaxDepth + 1];
  size_t fallback_depth_ = 0;
  port::Frame drain_frames_[port::kMaxBurst];
  std::vector<iovec> drain_iov_;
  ThreadCounters counters_;
};

}  // namespace uvs::bridge
