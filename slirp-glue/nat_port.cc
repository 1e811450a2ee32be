// SPDX-License-Identifier: MIT
// NatPort: libslirp's callbacks, the fill/poll pass, the TCP tick, and frames in and out.
#include "slirp-glue/nat_port.h"

#include <libslirp.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "eventloop/clock.h"
#include "eventloop/log.h"
#include "slirp-glue/dhcp_sniff.h"
#include "slirp-glue/dns_relay.h"
#include "slirp-glue/nat_conn_limit.h"
#include "slirp-glue/slirp_handles.h"
#include "slirp-glue/slirp_lock.h"

namespace uvs::slirpglue {
namespace {

// libslirp's TIMEOUT_FAST is 2 ms and TIMEOUT_SLOW 499 ms; with neither pending, fill returns
// its idle cap of 1000 ms, which is our cue to stop ticking.
constexpr uint32_t kIdleFillTimeoutMs = 1000;

NatPort* self(void* opaque) {
  return static_cast<NatPort*>(opaque);
}

ssize_t cb_send_packet(const void* buf, size_t len, void* opaque) {
  self(opaque)->on_slirp_output(static_cast<const uint8_t*>(buf), len);
  return static_cast<ssize_t>(len);
}
void cb_guest_error(const char* msg, void* opaque) {
  self(opaque)->on_guest_error(msg);
}
int64_t cb_clock_get_ns(void*) {
  // The loop's clock, so libslirp's ms deadlines (timer_mod) are loop timer deadlines.
  return ev::now_ns();
}
void cb_timer_free(void* timer, void*) {
  delete static_cast<SlirpTimer*>(timer);
}
void cb_timer_mod(void* timer, int64_t expire_ms, void*) {
  static_cast<SlirpTimer*>(timer)->timer().arm_at(expire_ms * 1'000'000);
}
void cb_register_poll_fd(int fd, void* opaque) {
  self(opaque)->on_register_fd(fd);
}
void cb_unregister_poll_fd(int fd, void* opaque) {
  self(opaque)->on_unregister_fd(fd);
}
void cb_notify(void* opaque) {
  self(opaque)->schedule_pass();
}
void* cb_timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque) {
  return self(opaque)->on_timer_new(static_cast<int>(id), cb_opaque);
}
int cb_add_poll(int fd, int events, void* opaque) {
  return self(opaque)->on_add_poll(fd, events);
}
int cb_get_revents(int idx, void* opaque) {
  return self(opaque)->on_get_revents(idx);
}

const SlirpCb kCallbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = nullptr,  // timer_new_opaque replaces it (SlirpConfig version 4)
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .init_completed = nullptr,
    .timer_new_opaque = cb_timer_new_opaque,
};

in6_addr v6_with_suffix(const in6_addr& prefix, uint8_t last) {
  in6_addr a = prefix;
  a.s6_addr[15] = last;
  return a;
}

}  // namespace

void SlirpFd::notify(uint8_t bits) {
  port_.on_fd_event(*this, bits);
}

void SlirpTimer::fire() {
  port_.on_timer_fire(*this);
}

NatPort::NatPort(ev::EventLoop& loop, NatPortOptions options)
    : loop_(loop),
      opts_(std::move(options)),
      pass_bh_(loop, ev::Callback::bind<&NatPort::run_pass>(this)),
      tick_(loop, ev::Callback::bind<&NatPort::run_pass>(this)),
      scratch_(port::kMaxFrameLen),
      segs_(opts_.mtu) {
  // The NAT answers as 52:55 followed by one of its IPv4 addresses (libslirp's special_ethaddr
  // with the address in the last four bytes, see arp_input / if_encap), and for IPv6 with the
  // last four bytes of its IPv6 address (in6_compute_ethaddr).
  auto put = [](uint8_t* mac, uint8_t second, const void* last4) {
    mac[0] = 0x52;
    mac[1] = second;
    std::memcpy(mac + 2, last4, 4);
  };
  put(our_macs_[0], 0x55, &opts_.host.s_addr);
  put(our_macs_[1], 0x55, &opts_.dns.s_addr);
  in6_addr h6 = v6_with_suffix(opts_.ipv6_prefix, 2);
  in6_addr d6 = v6_with_suffix(opts_.ipv6_prefix, 3);
  put(our_macs_[2], 0x56, &h6.s6_addr[12]);
  put(our_macs_[3], 0x56, &d6.s6_addr[12]);
}

NatPort::~NatPort() {
  if (slirp_) {
    std::lock_guard lk(slirp_lock());
    // Closes every socket (unregister_poll_fd first) and frees its timers through our callbacks,
    // so the registrations and loop timers go before the loop does.
    slirp_cleanup(slirp_);
    slirp_ = nullptr;
  }
  dns_.reset();
  pass_bh_.cancel();
  tick_.cancel();
  registered_.clear();
  fds_.clear();
}

NatStatus NatPort::start() {
  if (slirp_) return NatStatus::fail(NatErrc::kState, "nat " + opts_.name + ": already started");
  SlirpConfig cfg{};
  cfg.version = 4;
  cfg.restricted = opts_.restrict_guest ? 1 : 0;
  cfg.disable_host_loopback = !opts_.host_loopback;
  cfg.in_enabled = true;
  cfg.vnetwork = opts_.net;
  cfg.vnetmask = opts_.mask;
  cfg.vhost = opts_.host;
  cfg.in6_enabled = opts_.ipv6;
  cfg.vprefix_addr6 = opts_.ipv6_prefix;
  cfg.vprefix_len = opts_.ipv6_prefix_len;
  cfg.vhost6 = v6_with_suffix(opts_.ipv6_prefix, 2);  // QEMU's defaults: ::2 and ::3
  cfg.vnameserver6 = v6_with_suffix(opts_.ipv6_prefix, 3);
  cfg.vdhcp_start = opts_.dhcp_start;
  cfg.vnameserver = opts_.dns;
  cfg.vdomainname = opts_.domain.empty() ? nullptr : opts_.domain.c_str();
  // libslirp's MSS is MIN(if_mtu, if_mru) - 40 (tcp_mss) and ip6_input refuses payloads over
  // if_mtu, so both are raised: superframes go in whole and libslirp's segments come out large.
  // What the guests receive still fits their MTU and MSS (NatSegments).
  cfg.if_mtu = std::max<uint32_t>(opts_.mtu, kSlirpLargeMtu);
  cfg.if_mru = cfg.if_mtu;
  cfg.disable_dhcp = !opts_.dhcp;
  if (opts_.dns_server) {
    auto relay = DnsRelay::open(*this, loop_, *opts_.dns_server, opts_.dns, opts_.mtu);
    if (!relay) {
      return NatStatus::fail(NatErrc::kSocket, "nat " + opts_.name + ": dns-server: " +
                                                   relay.error);
    }
    dns_ = std::move(relay.relay);
  }
  if (opts_.max_connections) {
    conns_ = std::make_unique<NatConnLimit>(opts_.max_connections, opts_.host);
  }
  {
    std::lock_guard lk(slirp_lock());
    slirp_ = slirp_new(&cfg, &kCallbacks, this);
  }
  if (!slirp_) {
    dns_.reset();
    return NatStatus::fail(NatErrc::kBadOption,
                           "nat " + opts_.name + ": libslirp refused the network settings");
  }
  for (const NatForward& f : opts_.hostfwd) {
    NatStatus st = add_forward(f);
    if (!st) {
      std::lock_guard lk(slirp_lock());
      slirp_cleanup(slirp_);
      slirp_ = nullptr;
      forwards_.clear();
      dns_.reset();
      return st;
    }
  }
  schedule_pass();
  return NatStatus::ok();
}

port::PortState NatPort::state() const noexcept {
  return slirp_ ? port::PortState::kUp : port::PortState::kDown;
}

uint32_t NatPort::offload_caps() const noexcept {
  namespace cap = port::OffloadCap;
  return cap::kTso4 | cap::kTso6 | cap::kTsoEcn;
}

// ---- frames -----------------------------------------------------------------------------------

bool NatPort::addressed_to_us(const uint8_t* frame) const noexcept {
  if (frame[0] & 0x01) return true;  // broadcast (ARP, DHCP) and multicast (NDP)
  for (const auto& mac : our_macs_) {
    if (frame[0] == mac[0] && frame[1] == mac[1] && std::memcmp(frame + 2, mac + 2, 4) == 0) {
      return true;
    }
  }
  return false;
}

size_t NatPort::send_burst(std::span<const port::Frame> frames) noexcept {
  if (!slirp_) return 0;
  if (in_slirp_) [[unlikely]] {
    stats_.in_drop_reentry += frames.size();
    return frames.size();
  }
  Entry busy(*this);
  for (const port::Frame& f : frames) {
    if (f.len < port::kMinFrameLen || f.len > scratch_.size()) {
      ++stats_.in_drop_bad;
      continue;
    }
    if (f.ol.needs_csum()) [[unlikely]] {
      // offload_caps() has no kCsum: the switch completes partial checksums before us.
      ++stats_.in_drop_offload;
      continue;
    }
    const uint8_t* data;
    if (f.iovcnt == 1 && f.iov[0].iov_len >= f.len) {
      data = static_cast<const uint8_t*>(f.iov[0].iov_base);
    } else {
      f.copy_out(0, scratch_.data(), f.len);
      data = scratch_.data();
    }
    if (!addressed_to_us(data)) {
      ++stats_.in_not_ours;
      continue;
    }
    ++stats_.in_frames;
    stats_.in_bytes += f.len;
    if (f.ol.gso != port::Offload::Gso::kNone) ++stats_.in_gso;
    if (dns_ && dns_->take_query(data, f.len)) continue;
    if (NatSegments::is_tcp_syn(data, f.len)) {
      // The frame is lent read-only: the raised MSS goes into our copy.
      if (data != scratch_.data()) {
        std::memcpy(scratch_.data(), data, f.len);
        data = scratch_.data();
      }
      if (segs_.on_guest_syn(scratch_.data(), f.len)) ++stats_.in_syn_mss_raised;
    }
    if (conns_) [[unlikely]] {
      // Forward listeners are libslirp sockets too, but not the guests' to spend.
      const size_t open = registered_.size() - std::min(registered_.size(), forwards_.size());
      if (!conns_->admit(data, f.len, open)) {
        ++stats_.in_drop_conn_limit;
        continue;
      }
      slirp_input(slirp_, data, static_cast<int>(f.len));
      conns_->input_done();
      continue;
    }
    slirp_input(slirp_, data, static_cast<int>(f.len));
  }
  // What libslirp wants from its sockets may have changed (data to write, a new connection).
  schedule_pass();
  return frames.size();
}

void NatPort::deliver(const uint8_t* data, size_t len) noexcept {
  if (!sink_) {
    ++stats_.out_drop_no_sink;
    return;
  }
  iovec iov{const_cast<uint8_t*>(data), len};
  port::Frame f{&iov, 1, static_cast<uint32_t>(len)};
  ++stats_.out_frames;
  stats_.out_bytes += len;
  sink_->receive_burst(*this, std::span<const port::Frame>(&f, 1));
}

void NatPort::deliver_frames(std::span<const port::Frame> frames) noexcept {
  if (!sink_) {
    stats_.out_drop_no_sink += frames.size();
    return;
  }
  for (const port::Frame& f : frames) {
    stats_.out_bytes += f.len;
    if (f.ol.gso != port::Offload::Gso::kNone) ++stats_.out_gso;
  }
  stats_.out_frames += frames.size();
  sink_->receive_burst(*this, frames);
}

void NatPort::on_slirp_output(const uint8_t* data, size_t len) noexcept {
  if (len < port::kMinFrameLen || len > port::kMaxFrameLen) {
    ++stats_.errors;
    return;
  }
  note_dhcp(data, len);
  switch (segs_.start(data, len)) {
    case NatSegments::Out::kDropDf:
      ++stats_.out_drop_too_big;
      return;
    case NatSegments::Out::kFragments:
      ++stats_.out_fragmented;
      for (auto out = segs_.next(); !out.empty(); out = segs_.next()) {
        stats_.out_fragments += out.size();
        deliver_frames(out);
      }
      return;
    case NatSegments::Out::kPlain:
    case NatSegments::Out::kGso:
      deliver_frames(segs_.next());
      return;
  }
}

// Counts DHCPACKs and remembers the client hardware addresses, so stats can say how many
// guests hold a lease.
void NatPort::note_dhcp(const uint8_t* p, size_t len) noexcept {
  uint8_t chaddr[6];
  if (!dhcp_ack_client(p, len, chaddr)) return;
  ++stats_.dhcp_acks;
  static constexpr uint8_t kZero[6] = {};
  for (auto& m : lease_macs_) {
    if (std::memcmp(m, chaddr, 6) == 0) return;
    if (std::memcmp(m, kZero, 6) == 0) {
      std::memcpy(m, chaddr, 6);
      ++stats_.dhcp_leases;
      return;
    }
  }
}

void NatPort::on_guest_error(const char* msg) noexcept {
  // Guest-triggered: rate-limited, so a misbehaving guest cannot flood the log.
  ++stats_.guest_errors;
  uint64_t suppressed = 0;
  if (guest_error_log_.allow(&suppressed)) {
    ev::log_fmt(ev::LogLevel::kWarn, "nat %s: guest error: %s (%llu similar lines suppressed)",
                opts_.name.c_str(), msg, static_cast<unsigned long long>(suppressed));
  }
}

// ---- sockets ----------------------------------------------------------------------------------

void NatPort::on_register_fd(int fd) noexcept {
  if (fd < 0) return;
  if (static_cast<size_t>(fd) >= fds_.size()) fds_.resize(static_cast<size_t>(fd) + 1);
  if (fds_[fd]) on_unregister_fd(fd);  // a number libslirp reused without telling us
  // libslirp leaves hostfwd listening sockets blocking and would block the loop in accept()
  // if a connection went away between readiness and accept; non-blocking, it gets EAGAIN and
  // drops the half-made socket (tcp_connect). Its connected TCP sockets are non-blocking
  // already; UDP and ICMP sockets stay as libslirp made them (only fresh readiness reaches them).
  int type = 0;
  socklen_t tlen = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0 && type == SOCK_STREAM) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  }
  auto f = std::make_unique<SlirpFd>(*this, fd);
  // Watches nothing until the next fill says what libslirp wants from it.
  f->reg = loop_.add_fd(fd, ev::Events::kNone, f.get());
  registered_.push_back(f.get());
  fds_[fd] = std::move(f);
  if (conns_) conns_->on_register(fd);
  schedule_pass();
}

void NatPort::on_unregister_fd(int fd) noexcept {
  if (fd < 0 || static_cast<size_t>(fd) >= fds_.size() || !fds_[fd]) return;
  SlirpFd* f = fds_[fd].get();
  auto it = std::find(registered_.begin(), registered_.end(), f);
  if (it != registered_.end()) {
    *it = registered_.back();
    registered_.pop_back();
  }
  fds_[fd].reset();  // the registration goes with it, before libslirp closes the fd
  if (conns_) conns_->on_unregister(fd);
}

void NatPort::on_fd_event(SlirpFd& f, uint8_t revents) noexcept {
  // The pass runs right here, not from a bottom half. The loop reports readiness level-
  // triggered from a wait that may predate a deferred pass, so a deferred pass could act on a
  // report the previous pass already consumed — and libslirp then blocks in accept() or
  // recvfrom() on its blocking sockets, or answers a stale UDP read with an ICMP error. Run
  // here, the report is always from the wait just before it: fresh.
  f.revents |= revents;
  run_pass();
}

int NatPort::on_add_poll(int fd, int events) noexcept {
  if (fd < 0) return -1;
  if (static_cast<size_t>(fd) >= fds_.size() || !fds_[fd]) on_register_fd(fd);
  SlirpFd& f = *fds_[fd];
  ev::Events want = ev::Events::kNone;
  if (events & (SLIRP_POLL_IN | SLIRP_POLL_PRI)) want = want | ev::Events::kRead;
  if (events & SLIRP_POLL_OUT) want = want | ev::Events::kWrite;
  if (want != f.want) {
    f.want = want;
    f.reg.set_events(want);
  }
  f.fill_gen = fill_gen_;
  fill_fds_.push_back(fd);
  return static_cast<int>(fill_fds_.size() - 1);
}

int NatPort::on_get_revents(int idx) noexcept {
  if (idx < 0 || static_cast<size_t>(idx) >= fill_fds_.size()) return 0;
  const int fd = fill_fds_[idx];
  if (static_cast<size_t>(fd) >= fds_.size() || !fds_[fd]) return 0;
  int r = 0;
  if (fds_[fd]->revents & kRevIn) r |= SLIRP_POLL_IN;
  if (fds_[fd]->revents & kRevOut) r |= SLIRP_POLL_OUT;
  return r;
}

void NatPort::run_pass() noexcept {
  if (!slirp_ || in_slirp_) return;  // nested: the pass running now covers it
  Entry busy(*this);
  ++stats_.passes;
  // poll also runs libslirp's TCP fast/slow timers when they are due (the tick brings us here).
  if (filled_) slirp_pollfds_poll(slirp_, 0, cb_get_revents, this);
  for (int fd : fill_fds_) {
    if (static_cast<size_t>(fd) < fds_.size() && fds_[fd]) fds_[fd]->revents = 0;
  }
  fill_fds_.clear();
  ++fill_gen_;
  uint32_t timeout_ms = UINT32_MAX;
  slirp_pollfds_fill(slirp_, &timeout_ms, cb_add_poll, this);
  filled_ = true;
  // Sockets the fill skipped (window full, nothing to send) stop being watched, so a socket
  // libslirp does not want cannot keep waking the loop.
  for (SlirpFd* f : registered_) {
    if (f->fill_gen != fill_gen_ && f->want != ev::Events::kNone) {
      f->want = ev::Events::kNone;
      f->reg.set_events(ev::Events::kNone);
    }
  }
  if (timeout_ms < kIdleFillTimeoutMs) {
    // One ms more than asked: libslirp compares whole ms of its clock, so a tick at exactly
    // the deadline can find the slow timer 1 ms short and need a second pass.
    tick_.arm_in(int64_t(timeout_ms + 1) * 1'000'000);
  } else {
    tick_.cancel();
  }
}

// ---- timers -----------------------------------------------------------------------------------

void* NatPort::on_timer_new(int id, void* cb_opaque) noexcept {
  // Owned by libslirp from here on: freed by timer_free (cb_timer_free).
  return new SlirpTimer(*this, loop_, id, cb_opaque);
}

void NatPort::on_timer_fire(SlirpTimer& t) noexcept {
  if (!slirp_) return;
  {
    Entry busy(*this);
    slirp_handle_timer(slirp_, static_cast<SlirpTimerId>(t.id()), t.cb_opaque());
  }
  schedule_pass();
}

// ---- stats ------------------------------------------------------------------------------------

NatPortStats NatPort::stats() const noexcept {
  NatPortStats s = stats_;
  s.mss_evictions = segs_.table_evictions();
  s.registered_fds = registered_.size();
  // Classified on demand (control path): one getsockopt pair per libslirp socket.
  for (const SlirpFd* f : registered_) {
    int type = 0, listening = 0;
    socklen_t len = sizeof type;
    if (getsockopt(f->fd(), SOL_SOCKET, SO_TYPE, &type, &len) != 0) continue;
    len = sizeof listening;
    if (type == SOCK_STREAM) {
      getsockopt(f->fd(), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
      ++(listening ? s.tcp_listeners : s.tcp_open);
    } else if (type == SOCK_DGRAM) {
      ++s.udp_open;
    }
  }
  if (dns_) {
    s.dns_relayed = dns_->relayed();
    s.dns_answers = dns_->answered();
    s.dns_mismatched = dns_->mismatched();
    s.dns_truncated = dns_->truncated();
    s.errors += dns_->errors();
  }
  return s;
}

}  // namespace uvs::slirpglue
