// SPDX-License-Identifier: MIT
// VhostUserNetLane: the data path of some of a vhost-user-net device's queue pairs on one event
// loop — their kick handlers, TX bursts into a sink and RX bursts from the switch.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eventloop/bottom_half.h"
#include "eventloop/event_loop.h"
#include "eventloop/fd_handler.h"
#include "eventloop/poller.h"
#include "netback/vhost/net_datapath.h"
#include "netback/vhost/net_queue_stats.h"
#include "netback/common/netback_log.h"
#include "netback/vhost/vhost_user_device.h"
#include "port/port.h"

namespace uvs::netback {

class VhostUserNetLane;

/// What a lane tells the port that owns the device.
class VhostUserLaneOwner {
 public:
  virtual ~VhostUserLaneOwner() = default;
  /// The guest broke ring `what` of `lane` (a bad descriptor, a store outside memory): the
  /// connection must go. Called on the lane's loop thread; the lane has already stopped.
  virtual void lane_failed(VhostUserNetLane& lane, const char* what, const char* reason) noexcept = 0;
};

/// The negotiated properties the data path needs, copied when a lane (re)starts, so a lane on
/// another thread never reads the device's control state.
struct LaneConfig {
  uint32_t hdr_len = 12;
  bool mergeable = false;
  NetOffloadFeatures offload;
};

/// One thread's share of a vhost-user-net device: the queue pairs assigned to it.
///
/// The device (memory table, vrings) belongs to the port's control thread; a lane touches a
/// vring only between start() and stop(), and the port changes a vring only while every lane
/// that serves it is stopped, so the hand-over (a call on the lane's loop, whose queue is the
/// happens-before edge) is the only synchronisation. The port calls start()/stop()/attach_ring()
/// /detach_ring() on the lane's loop thread: directly when it is its own, through run_in_loop
/// otherwise.
///
/// As a port::Port, the lane is what the switch sees on this thread: send_burst fills the lane's
/// RX queues, picking one queue per flow (port::flow_hash) so a flow stays in order, and TX
/// bursts go to the lane's sink. Loop thread only, except offload_caps().
class VhostUserNetLane final : public port::Port {
 public:
  /// A lane of device `dev` on `loop` serving queue pairs `pairs` (each < the device's pairs).
  /// `name` is the port's, for logs. Construct and destroy on `loop`'s thread.
  VhostUserNetLane(ev::EventLoop& loop, std::string name, VhostUserDevice& dev,
                   VhostUserLaneOwner& owner, std::vector<uint32_t> pairs);
  ~VhostUserNetLane() override;
  VhostUserNetLane(const VhostUserNetLane&) = delete;
  VhostUserNetLane& operator=(const VhostUserNetLane&) = delete;

  /// Takes up the lane's running rings with `cfg` (kick fds registered, pending TX looked at).
  /// Loop thread.
  void start(const LaneConfig& cfg) noexcept;
  /// Lets go of every ring: kick fds unregistered, nothing left scheduled; send_burst refuses
  /// frames until start(). After it returns the lane no longer reads or writes guest memory.
  /// Loop thread; idempotent.
  void stop() noexcept;
  /// New negotiated properties while the lane runs (a lane on the port's own thread only).
  void update_config(const LaneConfig& cfg) noexcept {
    cfg_ = cfg;
    caps_.store(cfg.offload.guest_caps, std::memory_order_relaxed);
  }
  /// One ring of the lane changed while the lane runs (a lane on the port's own thread only).
  void detach_ring(uint32_t index) noexcept;
  void attach_ring(uint32_t index) noexcept;
  /// Whether the lane serves vring `index`.
  bool serves(uint32_t index) const noexcept;

  size_t send_burst(std::span<const port::Frame> frames) noexcept override;
  void set_sink(port::FrameSink* sink) noexcept override { sink_ = sink; }
  std::string_view name() const noexcept override { return name_; }
  /// kUp while started with at least one running ring; kBroken after the lane found a broken
  /// ring (until the next start()); kDown otherwise.
  port::PortState state() const noexcept override;
  uint32_t offload_caps() const noexcept override {
    return caps_.load(std::memory_order_relaxed);
  }

  /// The lane's sink, for frames the port produces itself (SEND_RARP). Loop thread.
  port::FrameSink* sink() const noexcept { return sink_; }
  /// The Port the lane's bursts come `from` in FrameSink::receive_burst: the lane itself, or the
  /// port that wraps it (lane 0). Before start.
  void set_origin(port::Port& origin) noexcept { origin_ = &origin; }
  ev::EventLoop& loop() noexcept { return loop_; }
  const std::vector<uint32_t>& pairs() const noexcept { return pairs_; }
  /// Counters of the lane's queue pairs, in pairs() order. Loop thread.
  const std::vector<NetQueueStats>& queue_stats() const noexcept { return qstats_; }
  /// Frames send_burst refused because the lane was stopped or had no running RX ring.
  uint64_t out_drop_not_ready() const noexcept { return out_drop_not_ready_; }

 private:
  class KickHandler;
  class NofdPoller;

  void on_kick(uint32_t index) noexcept;
  void process_tx(uint32_t slot) noexcept;
  void on_resume() noexcept;
  /// Runs the lane's TX rings that have no kick fd; returns whether any had work.
  bool poll_nofd_rings() noexcept;
  void fail(const char* what, const char* reason) noexcept;
  /// send_burst with several running RX queues: one sub-burst per queue, by flow.
  size_t send_spread(std::span<const port::Frame> frames, const uint32_t* running,
                     uint32_t nrunning) noexcept;
  /// One RX burst into the lane's pair slot `k`; false when the ring broke.
  bool rx_into(uint32_t k, std::span<const port::Frame> frames, size_t* taken) noexcept;

  ev::EventLoop& loop_;
  std::string name_;
  VhostUserDevice& dev_;
  VhostUserLaneOwner& owner_;
  std::vector<uint32_t> pairs_;  // device queue pair of each lane slot
  port::FrameSink* sink_ = nullptr;
  port::Port* origin_ = this;
  bool started_ = false;
  bool failed_ = false;
  LaneConfig cfg_;
  std::atomic<uint32_t> caps_{0};

  std::vector<std::unique_ptr<KickHandler>> kick_handlers_;  // [2 * slot + (tx ? 1 : 0)]
  std::vector<ev::FdRegistration> kick_regs_;                // same index
  std::unique_ptr<NofdPoller> nofd_poller_;
  ev::PollerRegistration nofd_reg_;
  ev::BottomHalf resume_bh_;
  uint64_t resume_mask_ = 0;  // lane slots whose TX ring has work left after its budget

  std::unique_ptr<TxScratch> tx_scratch_;
  std::unique_ptr<RxScratch> rx_scratch_;
  struct SpreadScratch {
    port::Frame frames[port::kMaxBurst];
    uint8_t queue[port::kMaxBurst];
  };
  std::unique_ptr<SpreadScratch> spread_;
  std::vector<NetQueueStats> qstats_;
  uint64_t out_drop_not_ready_ = 0;
  LogRateLimit bad_hdr_log_;
};

}  // namespace uvs::netback
