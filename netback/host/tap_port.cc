// SPDX-License-Identifier: MIT
// TapPort: opening the tap, burst reads into preallocated slots, writev per frame, and losing
// the device.
#include "netback/host/tap_port.h"

#include <endian.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netback/common/netback_log.h"
#include "netback/common/virtio_defs.h"

namespace uvs::netback {

namespace {

// Linux's ETH_MIN_MTU / ETH_MAX_MTU, the range SIOCSIFMTU accepts for a tap.
constexpr uint32_t kMinMtu = 68;
constexpr uint32_t kMaxMtu = 65535;

// TUN_F_USO4 / TUN_F_USO6 (Linux 6.2, include/uapi/linux/if_tun.h); older headers lack them.
constexpr unsigned kTunFUso4 = 0x20;
constexpr unsigned kTunFUso6 = 0x40;
constexpr unsigned kTunFTso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

int ioctl_socket() noexcept {
  return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

}  // namespace

class TapPort::Handler final : public ev::FdHandler {
 public:
  explicit Handler(TapPort* port) : port_(port) {}
  void on_readable() override { port_->on_readable(); }

 private:
  TapPort* port_;
};

TapPort::TapPort(ev::EventLoop& loop, TapPortOptions options)
    : loop_(loop), opts_(std::move(options)), handler_(std::make_unique<Handler>(this)) {}

TapPort::~TapPort() {
  reg_.reset();
  // Closing the last file of a non-persistent tap deletes the interface (the kernel's rule).
  if (fd_ >= 0) ::close(fd_);
}

Status TapPort::start() {
  if (started_) return Status::fail(NetbackError::kInvalidOption, opts_.name + ": already started");
  if (opts_.ifname.size() >= IFNAMSIZ) {
    return Status::fail(NetbackError::kInvalidOption,
                        opts_.name + ": interface name '" + opts_.ifname + "' is longer than " +
                            std::to_string(IFNAMSIZ - 1) + " characters");
  }
  if (opts_.mtu != 0 && (opts_.mtu < kMinMtu || opts_.mtu > kMaxMtu)) {
    return Status::fail(NetbackError::kInvalidOption, opts_.name + ": mtu must be 68..65535");
  }
  const bool existed = !opts_.ifname.empty() && if_nametoindex(opts_.ifname.c_str()) != 0;

  int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Status::fail(NetbackError::kSocket, opts_.name + ": open /dev/net/tun", errno);
  auto fail = [&](const std::string& what) {
    int e = errno;
    ::close(fd);
    return Status::fail(NetbackError::kSocket, opts_.name + ": " + what, e);
  };

  ifreq ifr{};
  std::memcpy(ifr.ifr_name, opts_.ifname.c_str(), opts_.ifname.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (opts_.vnet_hdr ? IFF_VNET_HDR : 0);
  if (::ioctl(fd, TUNSETIFF, &ifr) != 0) {
    // EINVAL: the name belongs to a tun (IFF_TUN) device or another kind of interface;
    // EPERM: no CAP_NET_ADMIN and not the owner; EBUSY: someone else has it open.
    return fail("attach to tap '" + opts_.ifname + "' (TUNSETIFF)");
  }
  ifname_.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));

  if (opts_.vnet_hdr) {
    // A fixed 12-byte header (virtio 1.2 §5.1.6, the size a VERSION_1 guest uses), little
    // endian. With offloads the kernel may send partial checksums and GSO frames; without
    // (TUNSETOFFLOAD 0) only complete, unsegmented frames.
    int sz = static_cast<int>(virtio::kNetHdrLen);
    if (::ioctl(fd, TUNSETVNETHDRSZ, &sz) != 0) return fail("TUNSETVNETHDRSZ");
    int le = 1;
    (void)::ioctl(fd, TUNSETVNETLE, &le);  // the default on little-endian hosts anyway
    if (opts_.offload) {
      if (!negotiate_offloads(fd)) return fail("TUNSETOFFLOAD");
    } else if (::ioctl(fd, TUNSETOFFLOAD, 0UL) != 0) {
      return fail("TUNSETOFFLOAD");
    }
    hdr_len_ = virtio::kNetHdrLen;
  }
  if (opts_.mtu != 0) {
    int s = ioctl_socket();
    ifreq mr{};
    std::memcpy(mr.ifr_name, ifname_.data(), ifname_.size());
    mr.ifr_mtu = static_cast<int>(opts_.mtu);
    bool ok = s >= 0 && ::ioctl(s, SIOCSIFMTU, &mr) == 0;
    int e = errno;
    if (s >= 0) ::close(s);
    if (!ok) {
      errno = e;
      return fail("set mtu " + std::to_string(opts_.mtu) + " on '" + ifname_ + "'");
    }
  }

  // Slots hold the largest frame the port interface allows (MTU 65535 plus Ethernet and VLAN
  // headers) behind the header: a tap read never truncates silently.
  rx_ = std::make_unique<FrameBatch>(hdr_len_ + port::kMaxFrameLen);
  bounce_ = std::make_unique_for_overwrite<uint8_t[]>(port::kMaxFrameLen);
  fd_ = fd;
  attached_ = true;
  started_ = true;
  stats_.created = !existed;
  reg_ = loop_.add_fd(fd_, ev::Events::kRead, handler_.get());
  log_port(LogLevel::kInfo, opts_.name, "%s tap %s%s%s%s%s%s%s", existed ? "attached to" : "created",
           ifname_.c_str(), opts_.vnet_hdr ? " (vnet header" : "",
           tun_flags_ & TUN_F_CSUM ? ", csum" : "", tun_flags_ & TUN_F_TSO4 ? " tso4" : "",
           tun_flags_ & TUN_F_TSO6 ? " tso6" : "", tun_flags_ & kTunFUso4 ? " uso" : "",
           opts_.vnet_hdr ? ")" : "");
  return Status::success();
}

bool TapPort::negotiate_offloads(int fd) noexcept {
  namespace cap = port::OffloadCap;
  // As QEMU's tap backend does, ask for everything and drop what the kernel refuses with
  // EINVAL: USO4/USO6 exist from Linux 6.2 on, the rest since 2.6.27.
  static constexpr unsigned kTries[] = {kTunFTso | kTunFUso4 | kTunFUso6, kTunFTso, TUN_F_CSUM, 0};
  for (unsigned flags : kTries) {
    if (::ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(flags)) != 0) {
      if (errno == EINVAL) continue;
      return false;
    }
    tun_flags_ = flags;
    caps_ = 0;
    rx_feat_ = NetOffloadFeatures{};
    if (flags & TUN_F_CSUM) {
      caps_ |= cap::kCsum;
      rx_feat_.host_csum = true;
      if (flags & TUN_F_TSO4) caps_ |= cap::kTso4;
      if (flags & TUN_F_TSO6) caps_ |= cap::kTso6;
      if (flags & TUN_F_TSO_ECN) caps_ |= cap::kTsoEcn;
      // The switch has one UDP GSO type for both IP versions, so the kernel must take both.
      if ((flags & kTunFUso4) && (flags & kTunFUso6)) caps_ |= cap::kUso;
      rx_feat_.host_tso4 = (flags & TUN_F_TSO4) != 0;
      rx_feat_.host_tso6 = (flags & TUN_F_TSO6) != 0;
      rx_feat_.host_ecn = (flags & TUN_F_TSO_ECN) != 0;
      rx_feat_.host_uso = (flags & (kTunFUso4 | kTunFUso6)) != 0;
    }
    return true;
  }
  return false;
}

port::PortState TapPort::state() const noexcept {
  return attached_ ? port::PortState::kUp : port::PortState::kDown;
}

TapLink TapPort::link() const noexcept {
  if (!attached_) return TapLink::kUnknown;
  int s = ioctl_socket();
  if (s < 0) return TapLink::kUnknown;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, ifname_.data(), ifname_.size());
  int r = ::ioctl(s, SIOCGIFFLAGS, &ifr);
  ::close(s);
  if (r != 0) return TapLink::kUnknown;
  if (!(ifr.ifr_flags & IFF_UP)) return TapLink::kAdminDown;
  if (!(ifr.ifr_flags & IFF_RUNNING)) return TapLink::kNoCarrier;
  return TapLink::kUp;
}

TapPortStats TapPort::stats() const noexcept {
  TapPortStats s = stats_;
  s.attached = attached_;
  return s;
}

// ---- RX: tap → sink ----

void TapPort::on_readable() noexcept {
  if (!attached_) return;
  FrameBatch& b = *rx_;
  b.clear();
  int gone = 0;
  // One burst per readiness report; the fd is level-triggered, so a tap with more queued comes
  // back on the next iteration, after the loop's other handlers had their turn.
  while (!b.full()) {
    uint8_t* slot = b.slot(b.size());
    ssize_t n = ::read(fd_, slot, b.slot_size());
    if (n < 0) {
      if (errno == EINTR) continue;
      // EBADFD: the interface was deleted under us (the file has no device any more).
      if (errno == EBADFD || errno == EIO) gone = errno;
      break;  // EAGAIN: drained. Anything else is unexpected; the next report retries.
    }
    size_t len = static_cast<size_t>(n);
    if (len < hdr_len_ + port::kMinFrameLen) {
      ++stats_.in_drop_too_short;
      continue;
    }
    port::Offload ol;
    if (hdr_len_ && !accept_vnet_hdr(slot, len, &ol)) continue;
    b.add(b.size(), hdr_len_, static_cast<uint32_t>(len - hdr_len_), ol);
  }
  if (sink_) {
    stats_.in_frames += b.size();
    for (const port::Frame& f : b.frames()) stats_.in_bytes += f.len;
  }
  deliver_burst(sink_, *this, b.frames(), &stats_.in_drop_no_sink);
  b.clear();
  if (gone) detach(gone);
}

bool TapPort::accept_vnet_hdr(const uint8_t* buf, size_t len, port::Offload* ol) noexcept {
  virtio::VirtioNetHdrV1 h;
  std::memcpy(&h, buf, sizeof h);
  if (h.flags == 0 && h.gso_type == virtio::kNetHdrGsoNone) [[likely]] return true;
  const iovec seg{const_cast<uint8_t*>(buf) + hdr_len_, len - hdr_len_};
  const port::Frame f{&seg, 1, static_cast<uint32_t>(len - hdr_len_)};
  // The kernel's header goes through the same checks as a guest's, against the offloads it was
  // allowed (TUNSETOFFLOAD): a header that does not match its frame never reaches the switch.
  BadHdr bad = parse_tx_hdr(h, f, rx_feat_, ol);
  if (bad == BadHdr::kGsoSize && h.gso_size != 0) [[unlikely]] {
    // A GSO frame whose payload fits in one segment: Linux itself treats such a header as not
    // GSO (virtio_net_hdr_to_skb, "too small packets are not really GSO ones"), so take it as
    // the partial-checksum frame it is.
    h.gso_type = virtio::kNetHdrGsoNone;
    h.gso_size = 0;
    bad = parse_tx_hdr(h, f, rx_feat_, ol);
  }
  if (bad != BadHdr::kNone) [[unlikely]] {
    ++stats_.in_drop_bad_hdr[static_cast<uint32_t>(bad)];
    uint64_t suppressed = 0;
    if (bad_hdr_log_.allow(&suppressed)) {
      log_port(LogLevel::kWarn, opts_.name,
               "dropped a frame from tap %s with a bad virtio-net header: %s (%llu similar lines "
               "suppressed)",
               ifname_.c_str(), bad_hdr_name(bad), static_cast<unsigned long long>(suppressed));
    }
    return false;
  }
  if (ol->needs_csum()) {
    ++stats_.in_csum;
  } else if (h.flags & virtio::kNetHdrFDataValid) {
    // §5.1.6.4: the device (here the kernel: CHECKSUM_UNNECESSARY) already verified the
    // checksums; passing that on spares a receiver that can take it the verification.
    ol->flags |= port::Offload::kDataValid;
    ++stats_.in_data_valid;
  }
  switch (ol->gso) {
    case port::Offload::Gso::kNone: return true;
    case port::Offload::Gso::kTcpV4: ++stats_.in_tso4; break;
    case port::Offload::Gso::kTcpV6: ++stats_.in_tso6; break;
    case port::Offload::Gso::kUdpL4: ++stats_.in_uso; break;
  }
  if (ol->ecn) ++stats_.in_ecn;
  return true;
}

void TapPort::count_out(const port::Offload& ol) noexcept {
  if (ol.needs_csum()) {
    ++stats_.out_csum;
  } else if ((ol.flags & port::Offload::kDataValid) && (caps_ & port::OffloadCap::kCsum)) {
    ++stats_.out_data_valid;
  }
  switch (ol.gso) {
    case port::Offload::Gso::kNone: return;
    case port::Offload::Gso::kTcpV4: ++stats_.out_tso4; break;
    case port::Offload::Gso::kTcpV6: ++stats_.out_tso6; break;
    case port::Offload::Gso::kUdpL4: ++stats_.out_uso; break;
  }
  if (ol.ecn) ++stats_.out_ecn;
}

void TapPort::detach(int err) noexcept {
  if (!attached_) return;
  attached_ = false;
  // The fd now reports an error on every poll: unwatch it before the loop spins on it. It stays
  // open (harmless) until the port is destroyed, so the fd number is not reused under us.
  reg_.reset();
  log_port(LogLevel::kWarn, opts_.name, "tap %s went away (%s); port is down", ifname_.c_str(), std::strerror(err));
}

// ---- TX: send_burst → tap ----

size_t TapPort::send_burst(std::span<const port::Frame> frames) noexcept {
  if (!attached_) {
    stats_.out_drop_not_ready += frames.size();
    return 0;
  }
  size_t i = 0;
  for (; i < frames.size(); ++i) {
    const port::Frame& f = frames[i];
    if (f.len < port::kMinFrameLen || f.len > port::kMaxFrameLen) {
      ++stats_.out_drop_bad_frame;
      continue;
    }
    // Build [header][segments...]; a frame with more segments than the scratch holds is copied
    // flat first (not expected: vhost-user TX chains have at most 64 segments too).
    uint32_t niov = 0;
    if (hdr_len_) {
      // The header the kernel reads is the one a guest would get for this frame (§5.1.6.4),
      // against the offloads it accepted; tun_get_user turns it into a GSO / partial skb.
      virtio::VirtioNetHdrV1 h;
      if (!make_rx_hdr(f.ol, caps_, &h)) [[unlikely]] {
        ++stats_.out_drop_offload;
        continue;
      }
      std::memcpy(tx_hdr_, &h, hdr_len_);
      tx_iov_[niov++] = iovec{tx_hdr_, hdr_len_};
    } else if (f.ol.needs_csum() || f.ol.gso != port::Offload::Gso::kNone) [[unlikely]] {
      ++stats_.out_drop_offload;  // a plain tap cannot say the checksum is partial
      continue;
    }
    size_t seg_bytes = 0;
    if (f.iovcnt <= kTxMaxIov) {
      for (uint32_t s = 0; s < f.iovcnt && seg_bytes < f.len; ++s) {
        size_t take = f.iov[s].iov_len;
        if (take > f.len - seg_bytes) take = f.len - seg_bytes;
        if (take == 0) continue;
        tx_iov_[niov++] = iovec{f.iov[s].iov_base, take};
        seg_bytes += take;
      }
    } else {
      seg_bytes = f.copy_out(0, bounce_.get(), f.len);
      tx_iov_[niov++] = iovec{bounce_.get(), seg_bytes};
    }
    if (seg_bytes != f.len) {  // segments shorter than the frame claims
      ++stats_.out_drop_bad_frame;
      continue;
    }
    ssize_t w;
    do {
      w = ::writev(fd_, tx_iov_, static_cast<int>(niov));
    } while (w < 0 && errno == EINTR);
    if (w >= 0) {
      // A tap write is one frame, all or nothing (tun_get_user).
      ++stats_.out_frames;
      stats_.out_bytes += f.len;
      if (!f.ol.plain() && hdr_len_) [[unlikely]] count_out(f.ol);
      continue;
    }
    if (errno == EAGAIN) {
      stats_.out_drop_full += frames.size() - i;
      return i;
    }
    if (errno == EIO) {
      // Measured on Linux 6.x: writing to a tap that is administratively down fails with EIO
      // (the device is still there). Not a reason to give up the device.
      stats_.out_drop_link_down += frames.size() - i;
      return i;
    }
    if (errno == EBADFD) {
      stats_.out_drop_not_ready += frames.size() - i;
      detach(EBADFD);
      return i;
    }
    ++stats_.out_errors;  // e.g. EINVAL for a frame the device refuses; drop just this one
  }
  return i;
}

}  // namespace uvs::netback
