// SPDX-License-Identifier: MIT
// StreamPort: accept / connect / reconnect, length-prefixed frame reassembly, and burst sends
// with a bounded pending buffer.
#include "netback/host/stream_port.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "netback/common/netback_log.h"

namespace uvs::netback {

namespace {

// QEMU's stream netdev (net/stream.c, net/socket.c) prefixes every frame with its length as a
// 32-bit big-endian integer; there is no other header and no padding.
constexpr size_t kPrefix = 4;
// recv() calls per readiness report before the loop's other handlers get a turn.
constexpr int kReadsPerEvent = 4;

static_assert(StreamPort::kRxBufferSize >= 2 * (kPrefix + port::kMaxFrameLen),
              "a partial largest frame must leave room for the next read");
static_assert(StreamPort::kPendingSize >= kPrefix + port::kMaxFrameLen,
              "the pending buffer must hold the rest of any one frame");

uint32_t load_be32(const uint8_t* p) noexcept {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

void store_be32(uint8_t* p, uint32_t v) noexcept {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

// Whether `f` can go on the stream: a length in range and segments that cover it (the prefix
// promises exactly f.len bytes). Sets `*segs` to the non-empty segments needed.
bool frame_ok(const port::Frame& f, size_t* segs) noexcept {
  *segs = 0;
  if (f.len < port::kMinFrameLen || f.len > port::kMaxFrameLen) return false;
  size_t covered = 0;
  for (uint32_t s = 0; s < f.iovcnt && covered < f.len; ++s) {
    if (f.iov[s].iov_len == 0) continue;
    covered += f.iov[s].iov_len;
    ++*segs;
  }
  return covered >= f.len;
}

}  // namespace

class StreamPort::ConnHandler final : public ev::FdHandler {
 public:
  explicit ConnHandler(StreamPort* port) : port_(port) {}
  void on_readable() override { port_->on_conn_readable(); }
  void on_writable() override { port_->on_conn_writable(); }

 private:
  StreamPort* port_;
};

// ---- construction ----

StreamPort::StreamPort(ev::EventLoop& loop, StreamPortOptions options)
    : loop_(loop),
      opts_(std::move(options)),
      conn_handler_(std::make_unique<ConnHandler>(this)),
      endpoint_(loop, this) {}

StreamPort::~StreamPort() {
  conn_reg_.reset();
  if (conn_fd_ >= 0) ::close(conn_fd_);
}

Status StreamPort::start() {
  if (started_) return Status::fail(NetbackError::kInvalidOption, opts_.name + ": already started");
  if (opts_.path.empty() == opts_.addr.empty()) {
    return Status::fail(NetbackError::kInvalidOption,
                        opts_.name + ": give exactly one of path (unix) and addr (TCP)");
  }
  AddressResult a = opts_.path.empty() ? parse_ip_address(opts_.addr, "addr")
                                       : unix_address(opts_.path, "path");
  if (!a.status) {
    a.status.message = opts_.name + ": " + a.status.message;
    return a.status;
  }
  if (opts_.role == StreamRole::kClient && !a.addr.is_unix() && a.addr.port() == 0) {
    return Status::fail(NetbackError::kInvalidOption,
                        opts_.name + ": addr '" + opts_.addr + "': a client needs a port");
  }
  addr_ = a.addr;
  rx_buf_ = std::make_unique_for_overwrite<uint8_t[]>(kRxBufferSize);
  pending_ = std::make_unique_for_overwrite<uint8_t[]>(kPendingSize);

  EndpointOptions ep;
  ep.name = opts_.name;
  ep.peer_kind = "stream peer";
  ep.role = opts_.role == StreamRole::kServer ? EndpointRole::kListen : EndpointRole::kConnect;
  ep.address = addr_;
  ep.access = opts_.access;
  ep.reconnect_min_ns = opts_.reconnect_min_ns;
  ep.reconnect_max_ns = opts_.reconnect_max_ns;
  ep.connect_timeout_ns = opts_.connect_timeout_ns;
  if (Status st = endpoint_.start(std::move(ep)); !st) return st;
  started_ = true;
  return Status::success();
}

port::PortState StreamPort::state() const noexcept {
  if (connected()) return port::PortState::kUp;
  return broken_ ? port::PortState::kBroken : port::PortState::kDown;
}

StreamPortStats StreamPort::stats() const noexcept {
  StreamPortStats s = stats_;
  s.pending_bytes = pending_len_ - pending_off_;
  s.connected = connected();
  s.connect_timeouts = endpoint_.connect_timeouts();
  return s;
}

std::string StreamPort::local_address() const { return endpoint_.local_address(); }

// ---- connection lifecycle ----

void StreamPort::endpoint_connected(int fd, const SocketAddress& peer) noexcept {
  conn_fd_ = fd;
  broken_ = false;
  ++conn_gen_;
  ++stats_.connections;
  rx_off_ = rx_len_ = 0;
  pending_off_ = pending_len_ = 0;
  if (!addr_.is_unix()) {
    // Each burst goes out in one sendmsg already; Nagle would only hold back its tail.
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  watching_write_ = false;
  conn_reg_ = loop_.add_fd(fd, ev::Events::kRead, conn_handler_.get());
  if (opts_.role == StreamRole::kServer) {
    // A unix peer is normally unnamed: then the listening path says which link this is.
    std::string who = peer.is_unix() || peer.empty() ? std::string() : peer.to_string() + " ";
    log_port(LogLevel::kInfo, opts_.name, "stream peer %sconnected at %s", who.c_str(), local_address().c_str());
  } else {
    log_port(LogLevel::kInfo, opts_.name, "connected to stream peer %s", peer.to_string().c_str());
  }
}

void StreamPort::drop_connection(Drop why, const char* detail) noexcept {
  if (conn_fd_ < 0) return;
  // Safe from inside the connection's own callbacks: the registration stops at once, and the
  // generation bump tells a delivery loop further up the stack that its frames are stale.
  conn_reg_.reset();
  ::close(conn_fd_);
  conn_fd_ = -1;
  ++conn_gen_;
  ++stats_.disconnects;
  rx_off_ = rx_len_ = 0;
  pending_off_ = pending_len_ = 0;
  switch (why) {
    case Drop::kPeerClosed: log_port(LogLevel::kInfo, opts_.name, "stream peer disconnected"); break;
    case Drop::kIoError:
      log_port(LogLevel::kWarn, opts_.name, "stream connection failed: %s; dropping it", detail);
      break;
    case Drop::kProtocol:
      // A length prefix we cannot honour means we no longer know where frames start: the only
      // safe recovery is a new connection. One line per dropped connection.
      broken_ = true;
      ++stats_.protocol_errors;
      {
        uint64_t suppressed = 0;  // a peer can reconnect and misbehave in a loop
        if (fail_log_.allow(&suppressed)) {
          log_port(LogLevel::kWarn, opts_.name,
                   "stream peer misbehaved (%s); dropping the connection (%llu similar lines "
                   "suppressed)",
                   detail, static_cast<unsigned long long>(suppressed));
        }
      }
      break;
  }
  endpoint_.connection_ended();
}

// ---- RX: peer → sink ----

void StreamPort::on_conn_readable() noexcept {
  for (int round = 0; round < kReadsPerEvent && conn_fd_ >= 0; ++round) {
    // Move the partial frame at the end to the front; it is at most one prefix + frame, so at
    // least kRxBufferSize / 2 bytes are free afterwards. Delivered frames are no longer lent.
    if (rx_off_ > 0) {
      std::memmove(rx_buf_.get(), rx_buf_.get() + rx_off_, rx_len_ - rx_off_);
      rx_len_ -= rx_off_;
      rx_off_ = 0;
    }
    const size_t space = kRxBufferSize - rx_len_;
    ssize_t r = ::recv(conn_fd_, rx_buf_.get() + rx_len_, space, MSG_DONTWAIT);
    if (r == 0) {
      drop_connection(Drop::kPeerClosed, nullptr);
      return;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      drop_connection(Drop::kIoError, std::strerror(errno));
      return;
    }
    rx_len_ += static_cast<size_t>(r);
    if (!deliver_frames()) return;
    if (static_cast<size_t>(r) < space) return;  // drained for now
  }
}

bool StreamPort::deliver_frames() noexcept {
  const uint64_t gen = conn_gen_;
  size_t nb = 0;
  auto flush = [&]() noexcept {
    if (nb == 0) return;
    std::span<const port::Frame> burst{rx_frames_, nb};
    if (sink_) {
      stats_.in_frames += nb;
      for (const port::Frame& f : burst) stats_.in_bytes += f.len;
      sink_->receive_burst(*this, burst);
    } else {
      stats_.in_drop_no_sink += nb;
    }
    nb = 0;
  };
  while (rx_len_ - rx_off_ >= kPrefix) {
    uint8_t* p = rx_buf_.get() + rx_off_;
    const uint32_t len = load_be32(p);
    if (len == 0 || len > port::kMaxFrameLen) [[unlikely]] {
      flush();  // the frames before it were well formed
      if (gen != conn_gen_) return false;
      char detail[64];
      std::snprintf(detail, sizeof detail, "frame length %u outside 1..%u", len,
                    port::kMaxFrameLen);
      drop_connection(Drop::kProtocol, detail);
      return false;
    }
    if (rx_len_ - rx_off_ - kPrefix < len) break;  // the rest has not arrived yet
    rx_off_ += kPrefix + len;
    if (len < port::kMinFrameLen) {
      ++stats_.in_drop_too_short;  // legal framing, but no Ethernet frame: skip just it
      continue;
    }
    rx_iov_[nb] = iovec{p + kPrefix, len};
    rx_frames_[nb] = port::Frame{&rx_iov_[nb], 1, len};
    if (++nb == port::kMaxBurst) {
      flush();
      if (gen != conn_gen_) return false;
    }
  }
  flush();
  return gen == conn_gen_;
}

// ---- TX: send_burst → peer ----

void StreamPort::append_pending(const port::Frame& f, size_t skip) noexcept {
  uint8_t prefix[kPrefix];
  store_be32(prefix, f.len);
  uint8_t* out = pending_.get() + pending_len_;
  size_t n = 0;
  if (skip < kPrefix) {
    std::memcpy(out, prefix + skip, kPrefix - skip);
    n = kPrefix - skip;
    skip = 0;
  } else {
    skip -= kPrefix;
  }
  n += f.copy_out(skip, out + n, f.len - skip);
  pending_len_ += n;
}

void StreamPort::watch_writable(bool on) noexcept {
  // Only while bytes are pending: a stream socket is almost always writable, and watching it
  // otherwise would wake the loop for nothing. Tracked here to spare redundant epoll_ctl calls.
  if (on == watching_write_ || conn_fd_ < 0) return;
  watching_write_ = on;
  conn_reg_.set_events(on ? ev::Events::kReadWrite : ev::Events::kRead);
}

bool StreamPort::flush_pending() noexcept {
  while (pending_off_ < pending_len_) {
    ssize_t w = ::send(conn_fd_, pending_.get() + pending_off_, pending_len_ - pending_off_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        watch_writable(true);
        return true;
      }
      drop_connection(Drop::kIoError, std::strerror(errno));
      return false;
    }
    pending_off_ += static_cast<size_t>(w);
  }
  pending_off_ = pending_len_ = 0;
  watch_writable(false);
  return true;
}

void StreamPort::on_conn_writable() noexcept {
  if (conn_fd_ >= 0) flush_pending();
}

size_t StreamPort::send_burst(std::span<const port::Frame> frames) noexcept {
  const size_t n = frames.size();
  if (!connected()) {
    stats_.out_drop_not_connected += n;
    return 0;
  }
  if (pending_off_ < pending_len_) {
    // The stream must stay in order: nothing new goes out until the queued bytes have.
    stats_.out_drop_busy += n;
    return 0;
  }
  // Queues frames[from..] into the pending buffer while they fit; returns the first refused.
  auto spill = [&](size_t from) noexcept {
    size_t j = from;
    for (; j < n; ++j) {
      const port::Frame& f = frames[j];
      size_t segs;
      if (!frame_ok(f, &segs)) {
        ++stats_.out_drop_bad_frame;
        continue;
      }
      if (pending_len_ + kPrefix + f.len > kPendingSize) break;
      append_pending(f, 0);
      ++stats_.out_frames;
      stats_.out_bytes += f.len;
    }
    stats_.out_drop_busy += n - j;
    if (pending_off_ < pending_len_) watch_writable(true);
    return j;
  };

  size_t next = 0;
  while (next < n) {
    // Gather [prefix][segments] for as many frames as the iovec array holds. A frame whose
    // segments do not cover its length, or whose length is out of range, ends the batch (or is
    // dropped when it starts one) so every batch entry is exactly prefix + len bytes.
    size_t nb = 0;
    size_t niov = 0;
    size_t i = next;
    for (; i < n && nb < port::kMaxBurst; ++i) {
      const port::Frame& f = frames[i];
      size_t segs;
      if (!frame_ok(f, &segs)) {
        if (nb > 0) break;
        ++stats_.out_drop_bad_frame;
        next = i + 1;
        continue;
      }
      if (niov + 1 + segs > kTxMaxIov) break;
      store_be32(tx_prefix_[nb], f.len);
      tx_iov_[niov++] = iovec{tx_prefix_[nb], kPrefix};
      size_t covered = 0;
      for (uint32_t s = 0; covered < f.len; ++s) {
        size_t take = f.iov[s].iov_len;
        if (take == 0) continue;
        if (take > f.len - covered) take = f.len - covered;
        tx_iov_[niov++] = iovec{f.iov[s].iov_base, take};
        covered += take;
      }
      tx_frame_bytes_[nb] = static_cast<uint32_t>(kPrefix + f.len);
      tx_frame_index_[nb] = static_cast<uint32_t>(i);
      ++nb;
    }
    if (nb == 0) {
      if (next >= n) break;  // only dropped frames were left
      // frames[next] alone has more segments than the iovec array: send it from the pending
      // buffer instead (a copy, but such frames are not expected from any port).
      append_pending(frames[next], 0);
      ++stats_.out_frames;
      stats_.out_bytes += frames[next].len;
      ++next;
      if (!flush_pending()) {
        stats_.out_drop_not_connected += n - next;
        return next;
      }
      if (pending_off_ < pending_len_) return spill(next);
      continue;
    }

    msghdr mh{};
    mh.msg_iov = tx_iov_;
    mh.msg_iovlen = niov;
    ssize_t w;
    do {
      w = ::sendmsg(conn_fd_, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (w < 0 && errno == EINTR);
    if (w < 0) {
      if (errno != EAGAIN) {
        drop_connection(Drop::kIoError, std::strerror(errno));
        stats_.out_drop_not_connected += n - next;
        return next;
      }
      w = 0;
    }
    size_t left = static_cast<size_t>(w);
    for (size_t k = 0; k < nb; ++k) {
      const port::Frame& f = frames[tx_frame_index_[k]];
      if (left >= tx_frame_bytes_[k]) {
        left -= tx_frame_bytes_[k];
        ++stats_.out_frames;
        stats_.out_bytes += f.len;
        continue;
      }
      // The socket took part of the burst: the rest of a started frame must follow before
      // anything else, so it goes to the pending buffer (which is empty here and holds any one
      // frame); further frames follow it while they fit.
      ++stats_.out_partial_writes;
      next = tx_frame_index_[k];
      if (left > 0) {
        append_pending(f, left);
        ++stats_.out_frames;
        stats_.out_bytes += f.len;
        ++next;
      }
      return spill(next);
    }
    next = i;
  }
  return n;
}

}  // namespace uvs::netback
