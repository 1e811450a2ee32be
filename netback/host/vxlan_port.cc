// SPDX-License-Identifier: MIT
// VxlanPort: socket set-up, recvmmsg bursts with sender and header checks, and sendmmsg
// bursts grouped by source port.
#include "netback/host/vxlan_port.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "eventloop/clock.h"

#ifndef UDP_NO_CHECK6_RX
#define UDP_NO_CHECK6_RX 102
#endif

namespace uvs::netback {
namespace {

// Default inner MTUs: a 1500-byte underlay less the outer headers and the inner Ethernet
// header (the figures Linux vxlan devices take on a 1500-byte lower device).
constexpr uint32_t kDefaultMtuV4 = 1500 - vxlan::kOverheadV4 - 14;
constexpr uint32_t kDefaultMtuV6 = 1500 - vxlan::kOverheadV6 - 14;
constexpr uint32_t kEthHdr = 14;
constexpr uint32_t kVlanTag = 4;
// Receive buffer asked for: a few hundred full-size datagrams, so a burst from a fast peer
// waits in the kernel while the loop is busy (the kernel caps it at net.core.rmem_max).
constexpr int kRcvBuf = 4 << 20;
constexpr int kSndBuf = 1 << 20;

// A bare address "192.0.2.1" / "2001:db8::1" with `port`.
AddressResult bare_ip(const std::string& text, uint16_t port, const char* what) {
  AddressResult r;
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&r.addr.storage, &v4, sizeof v4);
    r.addr.len = sizeof v4;
  } else if (::inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&r.addr.storage, &v6, sizeof v6);
    r.addr.len = sizeof v6;
  } else {
    r.status = Status::fail(NetbackError::kInvalidOption,
                            std::string(what) + " '" + text + "' is not an IP address");
  }
  return r;
}

bool same_ip(const SocketAddress& a, const SocketAddress& b) {
  if (a.family() != b.family()) return false;
  if (a.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(a.sa())->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(b.sa())->sin_addr.s_addr;
  }
  return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_addr,
                     &reinterpret_cast<const sockaddr_in6*>(b.sa())->sin6_addr, 16) == 0;
}

std::string ip_text(const SocketAddress& a) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (a.family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a.sa())->sin_addr, buf, sizeof buf);
  } else {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_addr, buf,
                sizeof buf);
  }
  return buf;
}

uint32_t now_s() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint32_t>(ts.tv_sec);
}

// Never fragment (RFC 7348 section 4.3: VTEPs MUST NOT fragment VXLAN packets): a datagram
// over the path MTU fails with EMSGSIZE and is counted instead.
int set_no_fragment(int fd, int family) {
  if (family == AF_INET) {
    int v = IP_PMTUDISC_DO;
    return ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v);
  }
  int v = IPV6_PMTUDISC_DO;
  return ::setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v);
}

}  // namespace

class VxlanPort::Handler final : public ev::FdHandler {
 public:
  explicit Handler(VxlanPort* port) : port_(port) {}
  void on_readable() override { port_->on_readable(); }

 private:
  VxlanPort* port_;
};

VxlanPort::VxlanPort(ev::EventLoop& loop, VxlanPortOptions options)
    : loop_(loop), opts_(std::move(options)), handler_(std::make_unique<Handler>(this)) {
  tx_fd_.fill(-1);
}

VxlanPort::~VxlanPort() {
  reg_.reset();
  if (rx_fd_ >= 0) ::close(rx_fd_);
  for (int fd : tx_fd_) {
    if (fd >= 0) ::close(fd);
  }
}

Status VxlanPort::start() {
  auto invalid = [&](const std::string& why) {
    return Status::fail(NetbackError::kInvalidOption, opts_.name + ": " + why);
  };
  if (started_) return invalid("already started");
  if (opts_.vni > vxlan::kMaxVni) {
    return invalid("vni " + std::to_string(opts_.vni) + " is over 16777215 (24 bits)");
  }
  if (opts_.dstport == 0) return invalid("dstport 0");
  if (opts_.remotes.empty()) return invalid("no remote VTEP");
  if (opts_.remotes.size() > kMaxVteps) {
    return invalid("more than " + std::to_string(kMaxVteps) + " remotes");
  }

  AddressResult l = parse_ip_address(opts_.local, "local");
  if (!l.status) l = bare_ip(opts_.local, opts_.dstport, "local");
  if (!l.status) return invalid(l.status.message);
  local_ = l.addr;
  if (local_.port() == 0) return invalid("local '" + opts_.local + "' needs a port");

  n_vteps_ = 0;
  remote_names_.clear();
  for (const std::string& text : opts_.remotes) {
    AddressResult r = bare_ip(text, opts_.dstport, "remote");
    if (!r.status) return invalid(r.status.message);
    if (r.addr.family() != local_.family()) {
      return invalid("remote '" + text + "' and local '" + opts_.local +
                     "' are of different IP versions");
    }
    for (size_t i = 0; i < n_vteps_; ++i) {
      if (same_ip(vteps_[i].addr, r.addr)) return invalid("remote '" + text + "' given twice");
    }
    vteps_[n_vteps_].addr = r.addr;
    vteps_[n_vteps_].stats = VtepStats{};
    ++n_vteps_;
    remote_names_.push_back(ip_text(r.addr));
  }

  const uint32_t overhead = local_.family() == AF_INET ? vxlan::kOverheadV4 : vxlan::kOverheadV6;
  mtu_ = opts_.mtu ? opts_.mtu : (local_.family() == AF_INET ? kDefaultMtuV4 : kDefaultMtuV6);
  if (mtu_ < 68 || mtu_ + kEthHdr + kVlanTag + overhead > 65535) {
    return invalid("mtu " + std::to_string(mtu_) + " is out of range (68.." +
                   std::to_string(65535 - kEthHdr - kVlanTag - overhead) + ")");
  }
  vxlan::write_header(header_, opts_.vni);

  Status st = open_sockets();
  if (!st) return st;

  rx_ = std::make_unique<FrameBatch>(port::kMaxFrameLen + vxlan::kHeaderLen);
  table_ = std::make_unique<VtepTable>();
  scratch_ = std::make_unique<Scratch>();
  std::memset(scratch_.get(), 0, sizeof(Scratch));
  for (size_t i = 0; i < FrameBatch::kSlots; ++i) {
    msghdr& h = scratch_->rx_msgs[i].msg_hdr;
    h.msg_iov = &rx_->slot_iovs()[i];
    h.msg_iovlen = 1;
    h.msg_name = &scratch_->rx_from[i];
  }
  started_ = true;
  reg_ = loop_.add_fd(rx_fd_, ev::Events::kRead, handler_.get());
  std::string remotes;
  for (const std::string& r : remote_names_) remotes += (remotes.empty() ? "" : ", ") + r;
  log_port(LogLevel::kInfo, opts_.name, "VXLAN VNI %u on %s, mtu %u, remotes %s", opts_.vni,
           local_address().c_str(), mtu_, remotes.c_str());
  return Status::success();
}

Status VxlanPort::open_sockets() {
  const int family = local_.family();
  SocketResult s = bind_socket(local_, SOCK_DGRAM, 0);
  if (!s.status) {
    s.status.message = opts_.name + ": local: " + s.status.message;
    return s.status;
  }
  rx_fd_ = s.fd;
  int buf = kRcvBuf;
  ::setsockopt(rx_fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  if (family == AF_INET6) {
    // RFC 6935 / RFC 6936: a tunnel protocol may accept zero UDP checksums over IPv6; Linux
    // drops them unless the socket says so.
    int one = 1;
    ::setsockopt(rx_fd_, IPPROTO_UDP, UDP_NO_CHECK6_RX, &one, sizeof one);
  }

  // Source sockets: bound to the local address and a port in the dynamic range, receiving
  // nothing (a filter drops whatever arrives there before it is queued).
  static sock_filter drop_all[] = {{BPF_RET | BPF_K, 0, 0, 0}};
  static const sock_fprog drop_prog = {1, drop_all};
  uint32_t next = static_cast<uint32_t>((ev::now_ns() ^ (int64_t(::getpid()) << 16)) % 16384);
  size_t tries = 0;
  for (size_t k = 0; k < kSrcPorts; ++k) {
    int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::fail(NetbackError::kSocket, opts_.name + ": socket()", errno);
    tx_fd_[k] = fd;
    ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &drop_prog, sizeof drop_prog);
    buf = kSndBuf;
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (set_no_fragment(fd, family) != 0) {
      return Status::fail(NetbackError::kSocket, opts_.name + ": IP_MTU_DISCOVER", errno);
    }
    if (family == AF_INET) {
      // RFC 7348 section 5: the UDP checksum SHOULD be transmitted as zero over IPv4. Over IPv6
      // it is computed, which every receiver takes (Linux refuses zero by default).
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof one);
    }
    SocketAddress src = local_;
    for (;;) {
      if (++tries > 16384) {
        return Status::fail(NetbackError::kSocket,
                            opts_.name + ": no free source port in 49152-65535", EADDRINUSE);
      }
      const uint16_t p = static_cast<uint16_t>(vxlan::kSrcPortMin + next);
      next = (next + 1) % 16384;
      if (family == AF_INET) {
        reinterpret_cast<sockaddr_in*>(src.sa())->sin_port = htons(p);
      } else {
        reinterpret_cast<sockaddr_in6*>(src.sa())->sin6_port = htons(p);
      }
      if (::bind(fd, src.sa(), src.len) == 0) break;
      if (errno != EADDRINUSE) {
        return Status::fail(NetbackError::kSocket,
                            opts_.name + ": local: bind to '" + src.to_string() + "'", errno);
      }
    }
  }
  return Status::success();
}

port::PortState VxlanPort::state() const noexcept {
  return started_ ? port::PortState::kUp : port::PortState::kDown;
}

std::string VxlanPort::local_address() const {
  if (rx_fd_ < 0) return "";
  return local_address_of(rx_fd_).to_string();
}

std::vector<uint16_t> VxlanPort::source_ports() const {
  std::vector<uint16_t> out;
  for (int fd : tx_fd_) {
    if (fd >= 0) out.push_back(local_address_of(fd).port());
  }
  return out;
}

size_t VxlanPort::learned_macs() const noexcept {
  return table_ ? table_->live(now_s()) : 0;
}

int VxlanPort::vtep_of(const sockaddr_storage& from, socklen_t len) const noexcept {
  if (from.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const uint32_t a = reinterpret_cast<const sockaddr_in&>(from).sin_addr.s_addr;
    for (size_t i = 0; i < n_vteps_; ++i) {
      const SocketAddress& v = vteps_[i].addr;
      if (v.family() == AF_INET &&
          reinterpret_cast<const sockaddr_in*>(v.sa())->sin_addr.s_addr == a) {
        return static_cast<int>(i);
      }
    }
  } else if (from.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const in6_addr& a = reinterpret_cast<const sockaddr_in6&>(from).sin6_addr;
    for (size_t i = 0; i < n_vteps_; ++i) {
      const SocketAddress& v = vteps_[i].addr;
      if (v.family() == AF_INET6 &&
          std::memcmp(&reinterpret_cast<const sockaddr_in6*>(v.sa())->sin6_addr, &a,
                      sizeof a) == 0) {
        return static_cast<int>(i);
      }
    }
  }
  return -1;
}

// ---- RX: VTEP → sink ----

void VxlanPort::on_readable() noexcept {
  Scratch& s = *scratch_;
  // One recvmmsg per readiness report: up to a burst of datagrams in one syscall.
  const size_t r = recv_datagram_burst(rx_fd_, s.rx_msgs, FrameBatch::kSlots, &stats_.in_errors);
  if (r == 0) return;
  const uint32_t now = now_s();
  FrameBatch& b = *rx_;
  b.clear();
  for (size_t i = 0; i < r; ++i) {
    const mmsghdr& m = s.rx_msgs[i];
    const int v = vtep_of(s.rx_from[i], m.msg_hdr.msg_namelen);
    if (v < 0) [[unlikely]] {
      ++stats_.in_drop_foreign;
      uint64_t suppressed = 0;
      if (foreign_log_.allow(&suppressed)) {
        SocketAddress from;
        std::memcpy(&from.storage, &s.rx_from[i], sizeof from.storage);
        from.len = m.msg_hdr.msg_namelen;
        log_port(LogLevel::kWarn, opts_.name,
                 "dropped a datagram from %s, which is not a remote VTEP (%llu suppressed)",
                 from.to_string().c_str(), static_cast<unsigned long long>(suppressed));
      }
      continue;
    }
    if (m.msg_hdr.msg_flags & MSG_TRUNC) [[unlikely]] {
      ++stats_.in_drop_too_big;
      continue;
    }
    const uint8_t* p = rx_->slot(i);
    const vxlan::Decap d = vxlan::decapsulate(p, m.msg_len, opts_.vni);
    if (d != vxlan::Decap::kOk) [[unlikely]] {
      if (d == vxlan::Decap::kTooShort) {
        ++stats_.in_drop_too_short;
      } else {
        ++(d == vxlan::Decap::kNoIFlag ? stats_.in_drop_no_vni : stats_.in_drop_wrong_vni);
        uint64_t suppressed = 0;
        if (vni_log_.allow(&suppressed)) {
          log_port(LogLevel::kWarn, opts_.name,
                   "dropped a datagram from %s: %s (%llu suppressed)", remote_names_[v].c_str(),
                   d == vxlan::Decap::kNoIFlag ? "I flag clear" : "another VNI",
                   static_cast<unsigned long long>(suppressed));
        }
      }
      continue;
    }
    const uint8_t* inner = p + vxlan::kHeaderLen;
    const uint32_t len = m.msg_len - static_cast<uint32_t>(vxlan::kHeaderLen);
    // RFC 7348 section 4.1: learn the inner source MAC → outer source IP mapping. A group
    // address is never a station's source.
    if (!(inner[6] & 0x01)) table_->learn(inner + 6, static_cast<uint8_t>(v), now);
    s.rx_vtep[b.size()] = static_cast<uint8_t>(v);
    b.add(i, vxlan::kHeaderLen, len);
  }
  if (sink_) {
    stats_.in_frames += b.size();
    size_t k = 0;
    for (const port::Frame& f : b.frames()) {
      stats_.in_bytes += f.len;
      VtepStats& vs = vteps_[s.rx_vtep[k++]].stats;
      ++vs.in_frames;
      vs.in_bytes += f.len;
    }
  }
  deliver_burst(sink_, *this, b.frames(), &stats_.in_drop_no_sink);
  b.clear();
}

// ---- TX: send_burst → VTEPs ----

size_t VxlanPort::send_burst(std::span<const port::Frame> frames) noexcept {
  if (!started_) return 0;
  Scratch& s = *scratch_;
  const uint32_t now = now_s();
  for (size_t base = 0; base < frames.size(); base += port::kMaxBurst) {
    const size_t n = std::min(frames.size() - base, port::kMaxBurst);
    // Pass 1: per frame, its segments behind the shared header, its source socket and its
    // destination (one learned VTEP, or kNone: every remote).
    const iovec* f_iov[port::kMaxBurst];
    uint32_t f_cnt[port::kMaxBurst];
    uint8_t f_sock[port::kMaxBurst];
    uint8_t f_dest[port::kMaxBurst];
    bool f_ok[port::kMaxBurst];
    size_t per_sock[kSrcPorts] = {};
    size_t niov = 0;
    for (size_t j = 0; j < n; ++j) {
      const port::Frame& f = frames[base + j];
      f_ok[j] = false;
      if (f.len < port::kMinFrameLen || f.len > port::kMaxFrameLen) {
        ++stats_.out_drop_bad_frame;
        continue;
      }
      uint8_t eth[kEthHdr];
      f.copy_out(0, eth, sizeof eth);
      const bool tagged = eth[12] == 0x81 && eth[13] == 0x00;
      if (f.len > mtu_ + kEthHdr + (tagged ? kVlanTag : 0)) {
        ++stats_.out_drop_mtu;
        continue;
      }
      iovec* iov = &s.tx_iov[niov];
      iov[0] = iovec{header_, vxlan::kHeaderLen};
      uint32_t cnt = 1;
      size_t covered = 0;
      for (uint32_t k = 0; k < f.iovcnt && covered < f.len && cnt <= kMaxSegs; ++k) {
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
      f_iov[j] = iov;
      f_cnt[j] = cnt;
      f_sock[j] = static_cast<uint8_t>(vxlan::flow_hash(f) % kSrcPorts);
      f_dest[j] = (eth[0] & 0x01) ? VtepTable::kNone : table_->lookup(eth, now);
      f_ok[j] = true;
      per_sock[f_sock[j]] += f_dest[j] == VtepTable::kNone ? n_vteps_ : 1;
      ++stats_.out_frames;
      ++(f_dest[j] == VtepTable::kNone ? stats_.out_flooded : stats_.out_unicast);
    }
    // Pass 2: the messages, grouped by source socket (a counting sort keeps each flow's order).
    size_t at[kSrcPorts];
    size_t total = 0;
    for (size_t k = 0; k < kSrcPorts; ++k) {
      at[k] = total;
      total += per_sock[k];
    }
    for (size_t j = 0; j < n; ++j) {
      if (!f_ok[j]) continue;
      const bool flood = f_dest[j] == VtepTable::kNone;
      const size_t first = flood ? 0 : f_dest[j];
      const size_t last = flood ? n_vteps_ : first + 1;
      for (size_t v = first; v < last; ++v) {
        const size_t m = at[f_sock[j]]++;
        msghdr& h = s.tx_msgs[m].msg_hdr;
        h = msghdr{};
        h.msg_name = const_cast<sockaddr*>(vteps_[v].addr.sa());
        h.msg_namelen = vteps_[v].addr.len;
        h.msg_iov = const_cast<iovec*>(f_iov[j]);
        h.msg_iovlen = f_cnt[j];
        s.tx_vtep[m] = static_cast<uint8_t>(v);
        s.tx_flood[m] = flood;
        s.tx_sock[m] = f_sock[j];
      }
    }
    send_messages(total);
  }
  return frames.size();
}

void VxlanPort::send_messages(size_t count) noexcept {
  Scratch& s = *scratch_;
  // Frames' lengths are needed for the byte counters: they travel in the iovecs.
  auto inner_len = [&](size_t m) {
    const msghdr& h = s.tx_msgs[m].msg_hdr;
    size_t len = 0;
    for (size_t k = 1; k < h.msg_iovlen; ++k) len += h.msg_iov[k].iov_len;
    return len;
  };
  size_t i = 0;
  while (i < count) {
    const uint8_t sock = s.tx_sock[i];
    size_t end = i;
    while (end < count && s.tx_sock[end] == sock) ++end;
    while (i < end) {
      int r = ::sendmmsg(tx_fd_[sock], &s.tx_msgs[i], static_cast<unsigned>(end - i),
                         MSG_DONTWAIT);
      if (r > 0) {
        for (int k = 0; k < r; ++k) {
          VtepStats& vs = vteps_[s.tx_vtep[i]].stats;
          ++vs.out_frames;
          vs.out_bytes += inner_len(i);
          vs.out_flooded += s.tx_flood[i];
          ++i;
        }
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      const int e = r < 0 ? errno : EIO;
      if (e == EAGAIN || e == ENOBUFS) {
        // The socket's buffer is full: the rest of this group would fail the same way.
        for (; i < end; ++i) ++vteps_[s.tx_vtep[i]].stats.out_drop_full;
        break;
      }
      // sendmmsg reports the first message it could not send: that one is dropped, the rest
      // (perhaps to other VTEPs) still may go.
      VtepStats& vs = vteps_[s.tx_vtep[i]].stats;
      if (e == EMSGSIZE) {
        ++vs.out_drop_too_big;
      } else {
        ++vs.out_drop_error;
        uint64_t suppressed = 0;
        if (send_log_.allow(&suppressed)) {
          log_port(LogLevel::kWarn, opts_.name, "cannot send to %s: %s (%llu suppressed)",
                   remote_names_[s.tx_vtep[i]].c_str(), std::strerror(e),
                   static_cast<unsigned long long>(suppressed));
        }
      }
      ++i;
    }
    i = end;
  }
}

}  // namespace uvs::netback
