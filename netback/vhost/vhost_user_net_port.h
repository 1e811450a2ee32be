// SPDX-License-Identifier: MIT
// VhostUserNetPort: a vhost-user-net device as a uvs::port::Port on one event loop: the socket
// role (server / client with reconnect / adopted fd), kick handlers, and the TX/RX bursts.
#pragma once

#include <array>
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
#include "eventloop/timer.h"
#include "netback/vhost/net_datapath.h"
#include "netback/vhost/net_queue_stats.h"
#include "netback/common/netback_log.h"
#include "netback/common/netback_status.h"
#include "netback/common/socket_endpoint.h"
#include "netback/common/unix_socket.h"
#include "netback/vhost/vhost_user_device.h"
#include "netback/vhost/vhost_user_msg.h"
#include "netback/vhost/vhost_user_net_lane.h"
#include "port/port.h"

namespace uvs::netback {

/// How the port reaches its frontend.
enum class SocketRole {
  kServer,  ///< we listen at socket_path; one frontend at a time, the next after it leaves
  kClient,  ///< we connect to a listening frontend (QEMU server=on, testpmd server=1) and
            ///< reconnect with backoff when it goes away
  kFd,      ///< an already-connected socket fd handed to us (`--fd`); no reconnect
  kListenFd,  ///< an already-listening socket fd handed to us (`--fd` of a listener): served
              ///< like kServer, but the path (if any) belongs to whoever created the socket
};

/// Options of one vhost-user-net port.
struct VhostUserNetOptions {
  std::string name = "vhost0";  ///< for logs and stats
  std::string socket_path;      ///< kServer / kClient
  SocketRole role = SocketRole::kServer;
  int fd = -1;                  ///< kFd / kListenFd: the socket; the port takes ownership
  uint32_t queue_pairs = 1;     ///< 1 .. kMaxQueuePairs
  /// Threads the queue pairs are spread over, 1 .. queue_pairs: pair p runs on lane
  /// p % lanes. Lane 0 is the port itself; the others are made with make_lane().
  uint32_t lanes = 1;
  uint16_t mtu = 1500;          ///< advertised to the guest (VIRTIO_NET_F_MTU), 68 .. 65535
  bool has_mac = false;         ///< advertise `mac` in the config space (VIRTIO_NET_F_MAC)
  std::array<uint8_t, 6> mac{};
  int64_t reconnect_min_ns = 100'000'000;    ///< client: first retry delay
  int64_t reconnect_max_ns = 2'000'000'000;  ///< client: the delay doubles up to this
  SocketAccess access;          ///< kServer: mode and group of the listening socket
  /// Offer checksum and TSO offloads (CSUM, GUEST_CSUM, HOST_/GUEST_TSO4/TSO6/ECN). Only where
  /// the frames' destinations can take them or the switch segments for those that cannot.
  bool offloads = false;
  /// Offer VHOST_F_LOG_ALL: QEMU may live-migrate the guest while the port logs its writes.
  bool migration = true;
};

/// Port-level counters plus the per-queue-pair ones.
struct VhostUserNetStats {
  std::vector<NetQueueStats> queues;  ///< one per queue pair
  NetQueueStats total;                ///< sum of queues
  uint64_t out_drop_not_ready = 0;    ///< send_burst frames refused: not connected / no RX ring
  uint64_t connections = 0;           ///< frontends that connected
  uint64_t disconnects = 0;           ///< connections that ended (any reason)
  uint64_t protocol_errors = 0;       ///< connections dropped because the peer misbehaved
  uint64_t rejected_requests = 0;     ///< requests answered with an error, connection kept
  uint64_t announces = 0;             ///< RARP frames sent for SEND_RARP
  bool connected = false;
};

/// A vhost-user-net backend device. Every method runs on the loop thread given at construction
/// (the port belongs to that loop; destroy it before the loop).
///
/// Its queue pairs may be spread over lanes on other threads (options.lanes > 1). The port keeps
/// the socket and the protocol state machine on its own thread and drives the other lanes by
/// posted calls: before it handles a message that may change a ring, the memory table or the
/// features, it stops them (VhostUserNetLane::stop) and waits, without blocking its thread, for
/// each to confirm; it starts them again once no message is pending. So GET_VRING_BASE reads
/// indices no other thread moves, and no lane reads memory being remapped.
///
/// Lifecycle with lanes, from a control thread that is none of the loops:
///  1. construct on loop 0, then make_lane(i, loop_i) on each loop i (1 .. lanes-1);
///  2. start() on loop 0; attach the port (lane 0) and the lanes to the switch;
///  3. to remove: detach from the switch, release_lanes() on loop 0, VhostUserNetLane::stop()
///     on each lane's loop, destroy the port on loop 0, then each lane on its loop.
class VhostUserNetPort final : public port::Port,
                               private VhostUserDeviceListener,
                               private EndpointListener,
                               private VhostUserLaneOwner {
 public:
  VhostUserNetPort(ev::EventLoop& loop, VhostUserNetOptions options);
  ~VhostUserNetPort() override;
  VhostUserNetPort(const VhostUserNetPort&) = delete;
  VhostUserNetPort& operator=(const VhostUserNetPort&) = delete;

  /// Makes lane `i` (1 .. options.lanes-1) on `loop`, serving pairs i, i + lanes, ... Call on
  /// `loop`'s thread, before start(), ordered after the construction by the caller's hand-off.
  /// The caller owns the lane and destroys it after the port (see the class comment).
  std::unique_ptr<VhostUserNetLane> make_lane(uint32_t i, ev::EventLoop& loop);
  /// Stops handling the frontend and posting to other lanes; the connection stays open until
  /// destruction. Loop thread; before the lanes are stopped and the port destroyed.
  void release_lanes() noexcept;
  /// The queue pairs lane 0 (this port) serves.
  const std::vector<uint32_t>& home_pairs() const noexcept { return home_->pairs(); }

  /// Validates the options and starts listening / connecting / serving the adopted fd. A client
  /// whose frontend is not up yet succeeds and keeps retrying. Returns the error (naming the
  /// option or path) for bad options or a socket that cannot be created.
  Status start();

  /// Copies frames into the guest's RX buffers of lane 0's queues (one queue per flow, by
  /// port::flow_hash); returns how many were taken. One used-index update and at most one
  /// interrupt per queue used.
  size_t send_burst(std::span<const port::Frame> frames) noexcept override {
    return home_->send_burst(frames);
  }
  void set_sink(port::FrameSink* sink) noexcept override { home_->set_sink(sink); }
  std::string_view name() const noexcept override { return opts_.name; }
  /// port::OffloadCap bits of what the guest acked (GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN): 0
  /// before SET_FEATURES and after a disconnect; follows each SET_FEATURES. Any thread (a
  /// relaxed snapshot: frames chosen under the old value are checked again in send_burst).
  uint32_t offload_caps() const noexcept override { return home_->offload_caps(); }
  /// kUp while connected with at least one running ring; kBroken from a peer misbehaviour until
  /// a new frontend has connected and started a ring; kDown otherwise.
  port::PortState state() const noexcept override;

  /// Snapshot of the counters; `queues` has every pair, zero for those of other lanes (add
  /// theirs with add_lane_stats on their threads). Loop thread only (allocates: control path).
  VhostUserNetStats stats() const;
  /// Adds `lane`'s queue counters into `s` (queues and total). `lane`'s loop thread.
  static void add_lane_stats(VhostUserNetStats& s, const VhostUserNetLane& lane);
  /// Whether a frontend is connected now.
  bool connected() const noexcept { return conn_fd_ >= 0 && !dying_; }
  /// The device state machine (for tests and `uvswitchctl` introspection). Loop thread only.
  const VhostUserDevice& device() const noexcept { return dev_; }

 private:
  class ConnHandler;

  // VhostUserDeviceListener
  void vring_detach(uint32_t index) noexcept override;
  void vring_attach(uint32_t index) noexcept override;
  void announce(const uint8_t mac[6]) noexcept override;
  // VhostUserLaneOwner
  void lane_failed(VhostUserNetLane& lane, const char* what, const char* reason) noexcept override;

  /// The lane serving vring `index`.
  VhostUserNetLane* lane_of(uint32_t index) noexcept;
  bool has_remote_lanes() const noexcept { return lanes_.size() > 1; }
  /// Asks every other lane to stop; on_lane_stopped() counts the confirmations.
  void stop_remote_lanes() noexcept;
  void on_lane_stopped() noexcept;
  /// Starts the other lanes again (posted) when connected and no confirmation is outstanding.
  void start_remote_lanes() noexcept;
  LaneConfig lane_config() const noexcept;

  // EndpointListener
  void endpoint_connected(int fd, const SocketAddress& peer) noexcept override;

  void on_conn_readable() noexcept;
  void handle_message() noexcept;
  /// The peer misbehaved: log once, mark broken, drop the connection.
  void fail(const char* what, const char* detail) noexcept;
  /// The connection ended (EOF or failure): stop handlers now, release everything in a BH.
  void begin_teardown() noexcept;
  void finish_teardown() noexcept;
  void send_reply_or_ack(bool explicit_reply, const DeviceReply& reply, bool ok) noexcept;
  /// Logs the message just handled at debug level (ring indices and migration state).
  void trace_message(HandleOutcome out) const;
  /// Re-derives the offloads from the acked features (after each message, and on reset).
  void update_offloads() noexcept;

  ev::EventLoop& loop_;
  VhostUserNetOptions opts_;
  VhostUserDevice dev_;
  std::unique_ptr<VhostUserNetLane> home_;  // lane 0, on this loop
  std::vector<VhostUserNetLane*> lanes_;    // [lane]; lanes_[0] == home_

  int conn_fd_ = -1;
  bool dying_ = false;    // teardown scheduled: handlers off, data path refuses work
  bool broken_ = false;   // last connection ended by a protocol error; no ring running since
  bool started_ = false;
  bool fd_given_ = false;  // opts_.fd went to the endpoint, which closes it

  std::unique_ptr<ConnHandler> conn_handler_;
  ev::FdRegistration conn_reg_;

  SocketEndpoint endpoint_;
  ev::BottomHalf teardown_bh_;
  // Other lanes: stopped (or asked to stop) unless remote_running_; stops_pending_ confirmations
  // outstanding; held_ a message read but not handled until they arrive.
  bool remote_running_ = false;
  uint32_t stops_pending_ = 0;
  bool held_ = false;
  bool released_ = false;

  MsgReader reader_;
  VhostUserMsg msg_;
  DeviceReply reply_;
  VhostUserNetStats port_stats_;  // port-level fields only
  LogRateLimit reject_log_;
  LogRateLimit fail_log_;
};

}  // namespace uvs::netback
