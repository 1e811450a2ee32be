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

// TX bursts per wake-up before yielding to the loop (the rest continues in a bottom half), so
// one busy guest cannot starve other ports on the thread.
constexpr int kTxBurstsPerRun = 4;
// Messages handled per readable event on the control socket.
constexpr int kMessagesPerRun = 64;
// Longest idle re-check period of TX rings whose frontend passed no kick fd (VRING_NOFD_MASK):
// the added latency of a frame after a silence, as with the fixed 100 us timer this replaces.
constexpr int64_t kNofdIdleMaxNs = 100'000;

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

}  // namespace

// ---- handlers ----

class VhostUserNetPort::KickHandler final : public ev::FdHandler {
 public:
  KickHandler(VhostUserNetPort* port, uint32_t index) : port_(port), index_(index) {}
  void on_readable() override { port_->on_kick(index_); }
  // Only TX rings are work sources: RX buffers are consumed when frames arrive for the guest.
  bool can_poll() const override { return virtio::is_tx_queue(index_); }
  bool poll() override { return port_->dev_.vring(index_).pending(); }
  void poll_ready() override { port_->process_tx(index_ / 2); }
  void poll_begin() override { port_->dev_.vring(index_).disable_notifications(); }
  void poll_end() override { port_->dev_.vring(index_).enable_notifications(); }

 private:
  VhostUserNetPort* port_;
  uint32_t index_;
};

/// The TX rings with no kick fd have nothing to wait on: the loop polls them (busy-polling
/// while they carry traffic, re-checking within kNofdIdleMaxNs while idle).
class VhostUserNetPort::NofdPoller final : public ev::Poller {
 public:
  explicit NofdPoller(VhostUserNetPort* port) : port_(port) {}
  bool poll() override { return port_->poll_nofd_rings(); }

 private:
  VhostUserNetPort* port_;
};

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
      teardown_bh_(loop, ev::Callback::bind<&VhostUserNetPort::finish_teardown>(this)),
      resume_bh_(loop, ev::Callback::bind<&VhostUserNetPort::on_resume>(this)) {
  conn_handler_ = std::make_unique<ConnHandler>(this);
  nofd_poller_ = std::make_unique<NofdPoller>(this);
  uint32_t nvrings = dev_.vring_count();
  kick_regs_.resize(nvrings);
  for (uint32_t i = 0; i < nvrings; ++i) {
    kick_handlers_.push_back(std::make_unique<KickHandler>(this, i));
  }
  tx_scratch_ = std::make_unique<TxScratch>();
  rx_scratch_ = std::make_unique<RxScratch>();
  qstats_.resize(nvrings / 2);
}

VhostUserNetPort::~VhostUserNetPort() {
  nofd_reg_.reset();
  teardown_bh_.cancel();
  resume_bh_.cancel();
  conn_reg_.reset();
  dev_.reset();  // detaches (unregisters) every kick fd before closing it
  for (auto& r : kick_regs_) r.reset();
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
  conn_fd_ = fd;
  dying_ = false;
  // broken_ stays set until the new frontend brings a ring up (vring_attach): a reconnect alone
  // does not mean the port forwards again.
  ++port_stats_.connections;
  reader_.reset();
  dev_.reset();
  update_offloads();
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
  // until the bottom half: a TX burst further up the stack may still hold frames lent from it.
  conn_reg_.reset();
  for (auto& r : kick_regs_) r.reset();
  nofd_reg_.reset();
  resume_bh_.cancel();
  resume_mask_ = 0;
  teardown_bh_.schedule();
}

void VhostUserNetPort::finish_teardown() noexcept {
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
  for (int k = 0; k < kMessagesPerRun && !dying_; ++k) {
    MsgError err = MsgError::kOk;
    MsgReader::Status st = reader_.read(conn_fd_, &msg_, &err);
    if (st == MsgReader::Status::kAgain) return;
    if (st == MsgReader::Status::kError) {
      if (err == MsgError::kPeerClosed || err == MsgError::kIo) {
        log_port(LogLevel::kInfo, opts_.name, "vhost-user frontend disconnected");
        begin_teardown();
      } else {
        fail("bad message", to_string(err));
      }
      return;
    }
    handle_message();
  }
  // More may be queued: the fd is level-triggered and reports again on the next iteration.
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
  offload_ = NetOffloadFeatures::from_acked(dev_.acked_features());
  caps_.store(offload_.guest_caps, std::memory_order_relaxed);
}

// ---- device listener ----

void VhostUserNetPort::vring_detach(uint32_t index) noexcept {
  kick_regs_[index].reset();
  if (virtio::is_tx_queue(index)) resume_mask_ &= ~(uint64_t{1} << (index / 2));
}

void VhostUserNetPort::vring_attach(uint32_t index) noexcept {
  Vring& v = dev_.vring(index);
  if (dying_ || conn_fd_ < 0 || !v.running()) return;
  broken_ = false;
  bool tx = virtio::is_tx_queue(index);
  // We never wait for RX buffers (send_burst takes what fits, the switch drops the rest), so
  // the guest need not kick after refilling: that saves it an exit per refill.
  if (!tx) v.disable_notifications();
  if (v.kick_fd >= 0) {
    kick_regs_[index] = loop_.add_fd(v.kick_fd, ev::Events::kRead, kick_handlers_[index].get(),
                                     /*external=*/true);
  } else if (tx && !nofd_reg_.valid()) {
    ev::PollerOptions po;
    po.idle_max_ns = kNofdIdleMaxNs;
    po.external = true;  // guest-triggered, like the kick fds it stands in for
    nofd_reg_ = loop_.add_poller(nofd_poller_.get(), po);
  }
  // Buffers posted before the ring started get no kick (vhost-user.rst: back-ends SHOULD NOT
  // expect one), so look now.
  if (tx && v.pending()) {
    resume_mask_ |= uint64_t{1} << (index / 2);
    resume_bh_.schedule();
  }
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
  if (sink_) sink_->receive_burst(*this, {&frame, 1});
}

// ---- data path ----

void VhostUserNetPort::on_kick(uint32_t index) noexcept {
  Vring& v = dev_.vring(index);
  v.drain_kick();
  ++qstats_[index / 2].kicks;
  if (virtio::is_tx_queue(index)) process_tx(index / 2);
}

void VhostUserNetPort::process_tx(uint32_t pair) noexcept {
  if (dying_) return;
  Vring& v = dev_.vring(virtio::tx_queue_index(pair));
  if (!v.running()) return;
  const uint32_t hdr_len = dev_.net_hdr_len();
  for (int b = 0; b < kTxBurstsPerRun; ++b) {
    BurstResult r = v.with_ring([&](auto& ring) {
      return net_tx_burst(ring, hdr_len, offload_, *this, sink_, *tx_scratch_, qstats_[pair]);
    });
    if (r.notify && v.signal()) ++qstats_[pair].calls;
    if (r.bad_hdrs != 0) [[unlikely]] {
      uint64_t suppressed = 0;
      if (bad_hdr_log_.allow(&suppressed)) {
        log_port(LogLevel::kWarn, opts_.name,
                 "dropped %u guest frame(s) with a bad virtio-net header: %s (%llu similar lines "
                 "suppressed)",
                 r.bad_hdrs, bad_hdr_name(r.last_bad_hdr),
                 static_cast<unsigned long long>(suppressed));
      }
    }
    if (r.broken()) {
      fail("TX ring", r.reason ? r.reason : to_string(r.error));
      return;
    }
    if (dying_) return;  // the sink's work broke this port (e.g. our own RX ring)
    if (r.count < port::kMaxBurst) break;
  }
  // Re-arm the guest's kick (EVENT_IDX) and catch buffers that raced with it; leftover work
  // continues in a bottom half so other fds get their turn first.
  if (v.update_avail_event()) {
    resume_mask_ |= uint64_t{1} << pair;
    resume_bh_.schedule();
  }
}

void VhostUserNetPort::on_resume() noexcept {
  uint64_t mask = resume_mask_;
  resume_mask_ = 0;
  while (mask && !dying_) {
    uint32_t pair = static_cast<uint32_t>(__builtin_ctzll(mask));
    mask &= mask - 1;
    process_tx(pair);
  }
}

bool VhostUserNetPort::poll_nofd_rings() noexcept {
  bool any = false;
  bool work = false;
  for (uint32_t pair = 0; pair < qstats_.size() && !dying_; ++pair) {
    Vring& v = dev_.vring(virtio::tx_queue_index(pair));
    if (v.running() && v.kick_fd < 0) {
      any = true;
      if (v.pending()) {
        work = true;
        process_tx(pair);
      }
    }
  }
  // The last no-fd ring stopped (or got a kick fd): nothing is left to poll.
  if (!any) nofd_reg_.reset();
  return work;
}

size_t VhostUserNetPort::send_burst(std::span<const port::Frame> frames) noexcept {
  if (frames.empty()) return 0;
  if (dying_ || conn_fd_ < 0) {
    port_stats_.out_drop_not_ready += frames.size();
    return 0;
  }
  const uint32_t pairs = static_cast<uint32_t>(qstats_.size());
  const uint32_t hdr_len = dev_.net_hdr_len();
  const bool mergeable = dev_.mergeable_rx();
  size_t done = 0;
  int first = -1;
  for (uint32_t k = 0; k < pairs && done < frames.size(); ++k) {
    uint32_t pair = (rx_rr_ + k) % pairs;
    Vring& v = dev_.vring(virtio::rx_queue_index(pair));
    if (!v.running()) continue;
    if (first < 0) first = static_cast<int>(pair);
    BurstResult r = v.with_ring([&](auto& ring) {
      return net_rx_burst(ring, hdr_len, mergeable, offload_.guest_caps, frames.subspan(done),
                          *rx_scratch_, qstats_[pair]);
    });
    if (r.notify && v.signal()) ++qstats_[pair].calls;
    if (r.broken()) {
      fail("RX ring", r.reason ? r.reason : to_string(r.error));
      return done;
    }
    done += r.count;
  }
  if (pairs > 1) rx_rr_ = (rx_rr_ + 1) % pairs;
  size_t left = frames.size() - done;
  if (left) {
    if (first >= 0) {
      qstats_[static_cast<uint32_t>(first)].out_drop_no_buffers += left;
    } else {
      port_stats_.out_drop_not_ready += left;
    }
  }
  return done;
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
  s.queues = qstats_;
  s.total = {};
  for (const auto& q : qstats_) s.total.add(q);
  s.connected = connected();
  return s;
}

}  // namespace uvs::netback
