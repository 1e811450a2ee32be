// SPDX-License-Identifier: MIT
// VhostUserNetPort: connection lifecycle, message dispatch, kick handlers and burst processing.
#include "netback/vhost/vhost_user_net_port.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netback/common/unix_socket.h"
#include "netback/common/virtio_defs.h"

namespace uvs::netback {

namespace {

// Messages handled per readable event on the control socket.
constexpr int kMessagesPerRun = 64;

NetDeviceConfig device_config(const VhostUserNetOptions& o) {
  NetDeviceConfig c;
  c.queue_pairs = o.queue_pairs >= 1 && o.queue_pairs <= kMaxQueuePairs ? o.queue_pairs : 1;
  c.mtu = o.mtu;
  c.has_mac = o.has_mac;
  c.mac = o.mac;
  c.offloads = o.offloads;
  c.migration = o.migration;
  return c;
}

uint32_t lane_count(const VhostUserNetOptions& o) {
  const uint32_t pairs = device_config(o).queue_pairs;
  return o.lanes >= 1 && o.lanes <= pairs ? o.lanes : 1;
}

std::vector<uint32_t> lane_pairs(const VhostUserNetOptions& o, uint32_t lane) {
  std::vector<uint32_t> pairs;
  const uint32_t n = lane_count(o);
  for (uint32_t p = lane; p < device_config(o).queue_pairs; p += n) pairs.push_back(p);
  return pairs;
}

// Requests that only read the device's negotiable state: answered without stopping the lanes.
bool touches_rings(vu::VhostUserRequest r) {
  using R = vu::VhostUserRequest;
  switch (r) {
    case R::kGetFeatures:
    case R::kGetProtocolFeatures:
    case R::kGetQueueNum:
    case R::kGetMaxMemSlots:
    case R::kGetConfig:
    case R::kGetStatus:
    case R::kSetOwner:
    case R::kSendRarp:
      return false;
    default:
      return true;
  }
}

}  // namespace

// ---- handlers ----

class VhostUserNetPort::ConnHandler final : public ev::FdHandler {
 public:
  explicit ConnHandler(VhostUserNetPort* port) : port_(port) {}
  void on_readable() override { port_->on_conn_readable(); }

 private:
  VhostUserNetPort* port_;
};

// ---- construction ----

VhostUserNetPort::VhostUserNetPort(ev::EventLoop& loop, VhostUserNetOptions options)
    : loop_(loop),
      opts_(std::move(options)),
      dev_(device_config(opts_), this),
      endpoint_(loop, this),
      teardown_bh_(loop, ev::Callback::bind<&VhostUserNetPort::finish_teardown>(this)) {
  conn_handler_ = std::make_unique<ConnHandler>(this);
  VhostUserLaneOwner& owner = *this;
  home_ = std::make_unique<VhostUserNetLane>(loop, opts_.name, dev_, owner, lane_pairs(opts_, 0));
  home_->set_origin(*this);
  lanes_.assign(lane_count(opts_), nullptr);
  lanes_[0] = home_.get();
}

std::unique_ptr<VhostUserNetLane> VhostUserNetPort::make_lane(uint32_t i, ev::EventLoop& loop) {
  if (i == 0 || i >= lanes_.size() || lanes_[i]) return nullptr;
  VhostUserLaneOwner& owner = *this;
  auto lane = std::make_unique<VhostUserNetLane>(loop, opts_.name, dev_, owner, lane_pairs(opts_, i));
  lanes_[i] = lane.get();
  return lane;
}

VhostUserNetPort::~VhostUserNetPort() {
  teardown_bh_.cancel();
  conn_reg_.reset();
  home_->stop();
  dev_.reset();  // detaches (unregisters) every kick fd before closing it
  reader_.reset();
  if (conn_fd_ >= 0) ::close(conn_fd_);
  bool adopted = opts_.role == SocketRole::kFd || opts_.role == SocketRole::kListenFd;
  if (!fd_given_ && adopted && opts_.fd >= 0) ::close(opts_.fd);
}

Status VhostUserNetPort::start() {
  if (started_) return Status::fail(NetbackError::kInvalidOption, opts_.name + ": already started");
  if (opts_.queue_pairs < 1 || opts_.queue_pairs > kMaxQueuePairs) {
    return Status::fail(NetbackError::kInvalidOption,
                        opts_.name + ": queue pairs must be 1.." + std::to_string(kMaxQueuePairs));
  }
  if (opts_.mtu < 68) {
    return Status::fail(NetbackError::kInvalidOption, opts_.name + ": mtu must be 68..65535");
  }
  if (opts_.lanes < 1 || opts_.lanes > opts_.queue_pairs) {
    return Status::fail(NetbackError::kInvalidOption,
                        opts_.name + ": threads must be 1..queues (" +
                            std::to_string(opts_.queue_pairs) + ")");
  }
  for (const VhostUserNetLane* lane : lanes_) {
    if (!lane) {
      return Status::fail(NetbackError::kInvalidOption,
                          opts_.name + ": not every lane was made before start");
    }
  }
  EndpointOptions ep;
  ep.name = opts_.name;
  ep.peer_kind = "vhost-user frontend";
  ep.access = opts_.access;
  ep.reconnect_min_ns = opts_.reconnect_min_ns;
  ep.reconnect_max_ns = opts_.reconnect_max_ns;
  switch (opts_.role) {
    case SocketRole::kServer:
    case SocketRole::kClient: {
      AddressResult a = unix_address(opts_.socket_path, "path");
      if (!a.status) {
        a.status.message = opts_.name + ": " + a.status.message;
        return a.status;
      }
      ep.address = a.addr;
      ep.role = opts_.role == SocketRole::kServer ? EndpointRole::kListen : EndpointRole::kConnect;
      break;
    }
    case SocketRole::kFd:
    case SocketRole::kListenFd:
      ep.fd = opts_.fd;
      ep.role = opts_.role == SocketRole::kFd ? EndpointRole::kAdoptConnected
                                              : EndpointRole::kAdoptListening;
      fd_given_ = true;
      break;
  }
  // A connected frontend (an inherited connected fd, a client's immediate connect) is served
  // from within start(): the port counts as started by then.
  started_ = true;
  if (Status st = endpoint_.start(std::move(ep)); !st) {
    started_ = false;
    return st;
  }
  return Status::success();
}

// ---- connection lifecycle ----

void VhostUserNetPort::endpoint_connected(int fd, const SocketAddress&) noexcept {
  if (released_) {
    ::close(fd);  // the port is going away
    return;
  }
  conn_fd_ = fd;
  dying_ = false;
  // broken_ stays set until the new frontend brings a ring up (vring_attach): a reconnect alone
  // does not mean the port forwards again.
  ++port_stats_.connections;
  reader_.reset();
  dev_.reset();
  home_->start(lane_config());
  conn_reg_ = loop_.add_fd(fd, ev::Events::kRead, conn_handler_.get());
  log_port(LogLevel::kInfo, opts_.name, "vhost-user frontend connected");
}

void VhostUserNetPort::fail(const char* what, const char* detail) noexcept {
  if (dying_ || conn_fd_ < 0) return;
  // Once per broken connection (begin_teardown() silences every handler at once), and rate-
  // limited across connections: a local peer can reconnect and misbehave in a loop.
  uint64_t suppressed = 0;
  if (fail_log_.allow(&suppressed)) {
    log_port(LogLevel::kWarn, opts_.name,
             "peer misbehaved, dropping vhost-user connection: %s: %s (%llu similar lines "
             "suppressed)",
             what, detail, static_cast<unsigned long long>(suppressed));
  }
  broken_ = true;
  ++port_stats_.protocol_errors;
  begin_teardown();
}

void VhostUserNetPort::begin_teardown() noexcept {
  if (dying_) return;
  dying_ = true;
  // Silence every source now (safe from inside their own callbacks). Guest memory stays mapped
  // until the bottom half: a TX burst further up the stack may still hold frames lent from it,
  // and lanes on other threads may still be in a burst until they confirm they stopped.
  conn_reg_.reset();
  held_ = false;
  home_->stop();
  stop_remote_lanes();
  teardown_bh_.schedule();
}

void VhostUserNetPort::finish_teardown() noexcept {
  if (stops_pending_ != 0) return;  // on_lane_stopped() schedules this again
  dev_.reset();
  update_offloads();
  reader_.reset();
  if (conn_fd_ >= 0) ::close(conn_fd_);
  conn_fd_ = -1;
  dying_ = false;
  ++port_stats_.disconnects;
  endpoint_.connection_ended();
}

// ---- control messages ----

void VhostUserNetPort::on_conn_readable() noexcept {
  for (int k = 0; k < kMessagesPerRun && !dying_ && !released_; ++k) {
    if (held_) return;
    MsgError err = MsgError::kOk;
    MsgReader::Status st = reader_.read(conn_fd_, &msg_, &err);
    if (st == MsgReader::Status::kAgain) {
      start_remote_lanes();
      return;
    }
    if (st == MsgReader::Status::kError) {
      if (err == MsgError::kPeerClosed || err == MsgError::kIo) {
        log_port(LogLevel::kInfo, opts_.name, "vhost-user frontend disconnected");
        begin_teardown();
      } else {
        fail("bad message", to_string(err));
      }
      return;
    }
    if (has_remote_lanes() && touches_rings(msg_.request()) &&
        (remote_running_ || stops_pending_ != 0)) {
      // Hold the message (and stop reading) until every other lane has let go of the rings.
      held_ = true;
      conn_reg_.reset();
      stop_remote_lanes();
      return;
    }
    handle_message();
  }
  // More may be queued: the fd is level-triggered and reports again on the next iteration.
}

// ---- lanes on other threads ----

LaneConfig VhostUserNetPort::lane_config() const noexcept {
  LaneConfig c;
  c.hdr_len = dev_.net_hdr_len();
  c.mergeable = dev_.mergeable_rx();
  c.offload = NetOffloadFeatures::from_acked(dev_.acked_features());
  return c;
}

void VhostUserNetPort::stop_remote_lanes() noexcept {
  if (!remote_running_) return;
  remote_running_ = false;
  for (size_t i = 1; i < lanes_.size(); ++i) {
    VhostUserNetLane* lane = lanes_[i];
    ++stops_pending_;
    // Both calls are queued in order on their loops; release_lanes() and the destruction
    // sequence (class comment) let them run before either object goes.
    lane->loop().run_in_loop([this, lane] {
      lane->stop();
      loop_.run_in_loop([this] { on_lane_stopped(); });
    });
  }
}

void VhostUserNetPort::on_lane_stopped() noexcept {
  if (--stops_pending_ != 0 || released_) return;
  if (dying_) {
    teardown_bh_.schedule();
    return;
  }
  if (!held_) return;
  held_ = false;
  conn_reg_ = loop_.add_fd(conn_fd_, ev::Events::kRead, conn_handler_.get());
  handle_message();
  // Handle what else is queued; the lanes start again once nothing is (on_conn_readable).
  on_conn_readable();
}

void VhostUserNetPort::start_remote_lanes() noexcept {
  if (remote_running_ || stops_pending_ != 0 || !has_remote_lanes() || released_ || dying_ ||
      conn_fd_ < 0) {
    return;
  }
  remote_running_ = true;
  const LaneConfig cfg = lane_config();
  for (size_t i = 1; i < lanes_.size(); ++i) {
    VhostUserNetLane* lane = lanes_[i];
    lane->loop().run_in_loop([lane, cfg] { lane->start(cfg); });
  }
}

void VhostUserNetPort::release_lanes() noexcept {
  released_ = true;
  conn_reg_.reset();
  home_->stop();
  remote_running_ = false;
}

void VhostUserNetPort::lane_failed(VhostUserNetLane& lane, const char* what,
                                   const char* reason) noexcept {
  if (&lane == home_.get()) {
    fail(what, reason);
    return;
  }
  // On the lane's thread: the port's state belongs to this loop.
  loop_.run_in_loop([this, what, reason] {
    if (!released_) fail(what, reason);
  });
}

VhostUserNetLane* VhostUserNetPort::lane_of(uint32_t index) noexcept {
  return lanes_[(index / 2) % lanes_.size()];
}

void VhostUserNetPort::handle_message() noexcept {
  std::string error;
  HandleOutcome out;
  try {
    out = dev_.handle(msg_, reader_.fds(), &reply_, &error);
  } catch (...) {
    // Only std::bad_alloc while formatting an error can get here.
    out = HandleOutcome::kFatal;
    error = "out of memory";
  }
  // SET_FEATURES (again: a guest driver reloading renegotiates) or RESET_DEVICE changed them.
  update_offloads();
  if (log_enabled(LogLevel::kDebug)) trace_message(out);
  if (dying_) return;
  if (out == HandleOutcome::kFatal) {
    // Best effort: tell a frontend that waits for the ack before it sees the hang-up.
    if (msg_.need_reply() && dev_.reply_ack()) {
      uint64_t nack = 1;
      send_reply(conn_fd_, msg_.request(), &nack, sizeof nack);
    }
    fail("protocol error", error.c_str());
    return;
  }
  if (out == HandleOutcome::kRejected) {
    ++port_stats_.rejected_requests;
    uint64_t suppressed = 0;
    if (reject_log_.allow(&suppressed)) {
      log_port(LogLevel::kWarn, opts_.name, "refused vhost-user request: %s (%llu similar lines suppressed)",
               error.c_str(), static_cast<unsigned long long>(suppressed));
    }
  }
  send_reply_or_ack(reply_.send, reply_, out == HandleOutcome::kOk);
}

void VhostUserNetPort::trace_message(HandleOutcome out) const {
  // What a migration's hand-over depends on (vhost-user.rst "Migration"): where each ring stops
  // and resumes, the used index beside it, the log and when logging starts and stops.
  using R = vu::VhostUserRequest;
  const auto& p = msg_.payload;
  const char* name = request_name(msg_.request());
  const char* res = out == HandleOutcome::kOk         ? "ok"
                    : out == HandleOutcome::kRejected ? "rejected"
                                                      : "fatal";
  switch (msg_.request()) {
    case R::kSetFeatures:
      log_port(LogLevel::kDebug, opts_.name, "%s 0x%llx log_all=%d (%s)", name,
               static_cast<unsigned long long>(p.u64), dev_.dirty_log().active() ? 1 : 0, res);
      break;
    case R::kSetVringBase:
      log_port(LogLevel::kDebug, opts_.name, "%s ring %u base %u (%s)", name, p.state.index,
               p.state.num, res);
      break;
    case R::kGetVringBase:
      log_port(LogLevel::kDebug, opts_.name, "%s ring %u -> %u used %u (%s)", name,
               p.state.index, reply_.payload.state.num,
               p.state.index < dev_.vring_count() ? dev_.vring(p.state.index).stop_used : 0, res);
      break;
    case R::kSetVringAddr:
      log_port(LogLevel::kDebug, opts_.name, "%s ring %u flags %u log_gpa 0x%llx (%s)", name,
               p.addr.index, p.addr.flags, static_cast<unsigned long long>(p.addr.log_guest_addr),
               res);
      break;
    case R::kSetVringKick: {
      uint32_t i = static_cast<uint32_t>(p.u64 & vu::kVringIndexMask);
      if (i < dev_.vring_count()) {
        const Vring& v = dev_.vring(i);
        log_port(LogLevel::kDebug, opts_.name, "%s ring %u started=%d avail %u used %u (%s)",
                 name, i, v.started ? 1 : 0, v.vq.last_avail_idx(), v.vq.used_idx(), res);
      }
      break;
    }
    case R::kSetLogBase:
      log_port(LogLevel::kDebug, opts_.name, "%s size %llu offset %llu active=%d (%s)", name,
               static_cast<unsigned long long>(p.log.mmap_size),
               static_cast<unsigned long long>(p.log.mmap_offset),
               dev_.dirty_log().active() ? 1 : 0, res);
      break;
    case R::kSetVringEnable:
      log_port(LogLevel::kDebug, opts_.name, "%s ring %u %u (%s)", name, p.state.index,
               p.state.num, res);
      break;
    case R::kAddMemReg:
    case R::kRemMemReg: {
      const vu::MemoryRegion& r = p.mem_reg.region;
      log_port(LogLevel::kDebug, opts_.name,
               "%s gpa 0x%llx size 0x%llx uva 0x%llx off 0x%llx (%s)", name,
               static_cast<unsigned long long>(r.guest_phys_addr),
               static_cast<unsigned long long>(r.memory_size),
               static_cast<unsigned long long>(r.userspace_addr),
               static_cast<unsigned long long>(r.mmap_offset), res);
      break;
    }
    default:
      log_port(LogLevel::kDebug, opts_.name, "%s (%s)", name, res);
      break;
  }
}

void VhostUserNetPort::send_reply_or_ack(bool explicit_reply, const DeviceReply& reply,
                                         bool ok) noexcept {
  bool sent = true;
  if (explicit_reply) {
    sent = send_reply(conn_fd_, msg_.request(), reply.payload.raw, reply.size);
  } else if (msg_.need_reply() && dev_.reply_ack()) {
    // vhost-user.rst REPLY_ACK: zero for success, non-zero for failure.
    uint64_t status = ok ? 0 : 1;
    sent = send_reply(conn_fd_, msg_.request(), &status, sizeof status);
  }
  if (!sent) {
    log_port(LogLevel::kWarn, opts_.name, "cannot send vhost-user reply: %s", std::strerror(errno));
    begin_teardown();
  }
}

void VhostUserNetPort::update_offloads() noexcept {
  home_->update_config(lane_config());
}

// ---- device listener ----

void VhostUserNetPort::vring_detach(uint32_t index) noexcept {
  // A lane on another thread is stopped while messages are handled (on_conn_readable) and
  // takes up its rings anew when it starts.
  VhostUserNetLane* lane = lane_of(index);
  if (lane == home_.get()) lane->detach_ring(index);
}

void VhostUserNetPort::vring_attach(uint32_t index) noexcept {
  Vring& v = dev_.vring(index);
  if (dying_ || conn_fd_ < 0 || !v.running()) return;
  broken_ = false;
  VhostUserNetLane* lane = lane_of(index);
  if (lane == home_.get()) lane->attach_ring(index);
}

void VhostUserNetPort::announce(const uint8_t mac[6]) noexcept {
  // RARP request (RFC 903) from the guest's MAC, as QEMU's self-announce sends it: the switch
  // learns where the migrated guest now lives.
  uint8_t f[60] = {};
  std::memset(f, 0xff, 6);
  std::memcpy(f + 6, mac, 6);
  f[12] = 0x80;
  f[13] = 0x35;  // ETH_P_RARP
  f[14] = 0x00;
  f[15] = 0x01;  // hardware: Ethernet
  f[16] = 0x08;
  f[17] = 0x00;  // protocol: IPv4
  f[18] = 6;
  f[19] = 4;
  f[20] = 0x00;
  f[21] = 0x03;  // reverse request
  std::memcpy(f + 22, mac, 6);  // sender MAC, sender IP 0
  std::memcpy(f + 32, mac, 6);  // target MAC, target IP 0
  iovec iov{f, sizeof f};
  port::Frame frame{&iov, 1, sizeof f};
  ++port_stats_.announces;
  if (port::FrameSink* sink = home_->sink()) sink->receive_burst(*this, {&frame, 1});
}

// ---- introspection ----

port::PortState VhostUserNetPort::state() const noexcept {
  if (broken_) return port::PortState::kBroken;
  if (!connected()) return port::PortState::kDown;
  for (uint32_t i = 0; i < dev_.vring_count(); ++i) {
    if (dev_.vring(i).running()) return port::PortState::kUp;
  }
  return port::PortState::kDown;
}

VhostUserNetStats VhostUserNetPort::stats() const {
  VhostUserNetStats s = port_stats_;
  s.queues.assign(dev_.vring_count() / 2, NetQueueStats{});
  s.total = {};
  add_lane_stats(s, *home_);
  s.connected = connected();
  return s;
}

void VhostUserNetPort::add_lane_stats(VhostUserNetStats& s, const VhostUserNetLane& lane) {
  const auto& q = lane.queue_stats();
  for (size_t k = 0; k < lane.pairs().size() && k < q.size(); ++k) {
    if (lane.pairs()[k] < s.queues.size()) s.queues[lane.pairs()[k]].add(q[k]);
    s.total.add(q[k]);
  }
  s.out_drop_not_ready += lane.out_drop_not_ready();
}

}  // namespace uvs::netback
