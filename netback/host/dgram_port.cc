// SPDX-License-Identifier: MIT
// DgramPort: socket set-up, recvmmsg bursts into preallocated slots, sendmmsg bursts.
#include "netback/host/dgram_port.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace uvs::netback {

class DgramPort::Handler final : public ev::FdHandler {
 public:
  explicit Handler(DgramPort* port) : port_(port) {}
  void on_readable() override { port_->on_readable(); }

 private:
  DgramPort* port_;
};

DgramPort::DgramPort(ev::EventLoop& loop, DgramPortOptions options)
    : loop_(loop), opts_(std::move(options)), handler_(std::make_unique<Handler>(this)) {}

DgramPort::~DgramPort() {
  reg_.reset();
  if (fd_ >= 0) ::close(fd_);
  if (unlink_local_) ::unlink(opts_.local_path.c_str());
}

Status DgramPort::start() {
  auto invalid = [&](const std::string& why) {
    return Status::fail(NetbackError::kInvalidOption, opts_.name + ": " + why);
  };
  if (started_) return invalid("already started");
  const bool inet = !opts_.local.empty() || !opts_.remote.empty();
  const bool use_unix = !opts_.local_path.empty() || !opts_.remote_path.empty();
  if (inet && use_unix) return invalid("give local/remote (UDP) or local_path/remote_path (unix), not both");
  if (!inet && !use_unix) return invalid("no remote address");

  AddressResult r = inet ? parse_ip_address(opts_.remote, "remote")
                         : unix_address(opts_.remote_path, "remote_path");
  if (!r.status) return invalid(r.status.message);
  remote_ = r.addr;
  remote_text_ = remote_.to_string();
  if (inet && remote_.port() == 0) return invalid("remote '" + opts_.remote + "' needs a port");

  if (inet) {
    if (opts_.local.empty()) {
      // Any address, a kernel-chosen port, in the remote's family.
      local_.storage.ss_family = static_cast<sa_family_t>(remote_.family());
      local_.len = remote_.family() == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    } else {
      AddressResult l = parse_ip_address(opts_.local, "local");
      if (!l.status) return invalid(l.status.message);
      local_ = l.addr;
      if (local_.family() != remote_.family()) {
        return invalid("local '" + opts_.local + "' and remote '" + opts_.remote +
                       "' are of different IP versions");
      }
    }
  } else if (!opts_.local_path.empty()) {
    AddressResult l = unix_address(opts_.local_path, "local_path");
    if (!l.status) return invalid(l.status.message);
    local_ = l.addr;
  }

  if (!local_.empty()) {
    SocketResult s = bind_socket(local_, SOCK_DGRAM, 0);
    if (!s.status) {
      s.status.message = opts_.name + ": " + s.status.message;
      return s.status;
    }
    fd_ = s.fd;
    unlink_local_ = local_.is_unix();
  } else {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Status::fail(NetbackError::kSocket, opts_.name + ": socket()", errno);
  }

  rx_ = std::make_unique<FrameBatch>(port::kMaxFrameLen);
  scratch_ = std::make_unique<Scratch>();
  std::memset(scratch_.get(), 0, sizeof(Scratch));
  for (size_t i = 0; i < FrameBatch::kSlots; ++i) {
    msghdr& h = scratch_->rx_msgs[i].msg_hdr;
    h.msg_iov = &rx_->slot_iovs()[i];
    h.msg_iovlen = 1;
    h.msg_name = &scratch_->rx_from[i];
  }
  started_ = true;
  reg_ = loop_.add_fd(fd_, ev::Events::kRead, handler_.get());
  log_port(LogLevel::kInfo, opts_.name, "datagram link %s -> %s", local_address().c_str(),
           remote_text_.c_str());
  return Status::success();
}

port::PortState DgramPort::state() const noexcept {
  return started_ ? port::PortState::kUp : port::PortState::kDown;
}

std::string DgramPort::local_address() const {
  if (fd_ < 0 || local_.empty()) return "";
  return local_address_of(fd_).to_string();
}

// ---- RX: peer → sink ----

void DgramPort::on_readable() noexcept {
  Scratch& s = *scratch_;
  // One recvmmsg per readiness report: up to a burst of datagrams in one syscall.
  const size_t r = recv_datagram_burst(fd_, s.rx_msgs, FrameBatch::kSlots, &stats_.in_errors);
  if (r == 0) return;
  FrameBatch& b = *rx_;
  b.clear();
  for (size_t i = 0; i < r; ++i) {
    const mmsghdr& m = s.rx_msgs[i];
    if (!remote_.same_endpoint(s.rx_from[i], m.msg_hdr.msg_namelen)) [[unlikely]] {
      ++stats_.in_drop_foreign;
      uint64_t suppressed = 0;
      if (foreign_log_.allow(&suppressed)) {
        log_port(LogLevel::kWarn, opts_.name, "dropped a datagram from a sender other than %s (%llu suppressed)",
                 remote_text_.c_str(), static_cast<unsigned long long>(suppressed));
      }
      continue;
    }
    if (m.msg_hdr.msg_flags & MSG_TRUNC) {
      ++stats_.in_drop_too_big;
      continue;
    }
    if (m.msg_len < port::kMinFrameLen) {
      ++stats_.in_drop_too_short;
      continue;
    }
    // Slot i keeps datagram i: the frames are lent straight from where the kernel put them.
    b.add(i, 0, m.msg_len);
  }
  if (sink_) {
    stats_.in_frames += b.size();
    for (const port::Frame& f : b.frames()) stats_.in_bytes += f.len;
  }
  deliver_burst(sink_, *this, b.frames(), &stats_.in_drop_no_sink);
  b.clear();
}

// ---- TX: send_burst → peer ----

size_t DgramPort::send_burst(std::span<const port::Frame> frames) noexcept {
  if (!started_) return 0;
  Scratch& s = *scratch_;
  const size_t n = frames.size() < port::kMaxBurst ? frames.size() : port::kMaxBurst;
  // One message per usable frame, segments clipped to the frame's length.
  size_t m = 0;
  size_t niov = 0;
  for (size_t j = 0; j < n; ++j) {
    const port::Frame& f = frames[j];
    if (f.len < port::kMinFrameLen || f.len > port::kMaxFrameLen) {
      ++stats_.out_drop_bad_frame;
      continue;
    }
    iovec* iov = &s.tx_iov[niov];
    uint32_t cnt = 0;
    size_t covered = 0;
    for (uint32_t k = 0; k < f.iovcnt && covered < f.len && cnt < kMaxSegs; ++k) {
      size_t take = f.iov[k].iov_len;
      if (take == 0) continue;
      if (take > f.len - covered) take = f.len - covered;
      iov[cnt++] = iovec{f.iov[k].iov_base, take};
      covered += take;
    }
    if (covered != f.len) {  // segments too short, or more than kMaxSegs of them
      ++stats_.out_drop_bad_frame;
      continue;
    }
    niov += cnt;
    msghdr& h = s.tx_msgs[m].msg_hdr;
    h = msghdr{};
    h.msg_name = const_cast<sockaddr*>(remote_.sa());
    h.msg_namelen = remote_.len;
    h.msg_iov = iov;
    h.msg_iovlen = cnt;
    s.tx_index[m] = static_cast<uint32_t>(j);
    ++m;
  }
  size_t sent = 0;
  while (sent < m) {
    int r = ::sendmmsg(fd_, &s.tx_msgs[sent], static_cast<unsigned>(m - sent), MSG_DONTWAIT);
    if (r > 0) {
      for (int k = 0; k < r; ++k) {
        ++stats_.out_frames;
        stats_.out_bytes += frames[s.tx_index[sent + size_t(k)]].len;
      }
      sent += static_cast<size_t>(r);
      continue;
    }
    // sendmmsg reports the failure of the first message it could not send.
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EMSGSIZE) {
      ++stats_.out_drop_too_big;  // this frame can never go; the rest still may
      ++sent;
      continue;
    }
    const size_t refused = frames.size() - s.tx_index[sent];
    if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
      stats_.out_drop_full += refused;
    } else {
      // The peer is not there (ECONNREFUSED / ENOENT for a unix peer, an unreachable network):
      // every further frame would fail the same way, so refuse the rest at once.
      int e = r < 0 ? errno : EIO;
      stats_.out_drop_error += refused;
      uint64_t suppressed = 0;
      if (send_log_.allow(&suppressed)) {
        log_port(LogLevel::kWarn, opts_.name, "cannot send to %s: %s (%llu similar lines suppressed)",
                 remote_text_.c_str(), std::strerror(e),
                 static_cast<unsigned long long>(suppressed));
      }
    }
    return s.tx_index[sent];
  }
  if (n < frames.size()) stats_.out_drop_full += frames.size() - n;
  return n;
}

}  // namespace uvs::netback
