// SPDX-License-Identifier: MIT
// DnsRelay: query interception, the relay socket, answer matching, and answer frames built back
// toward the guest.
#include "slirp-glue/dns_relay.h"

#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "slirp-glue/nat_port.h"

namespace uvs::slirpglue {
namespace {

constexpr size_t kEth = 14, kIp = 20, kUdp = 8, kDnsHdr = 12;
constexpr size_t kMaxUdp = 65535 - kIp - kUdp;  // the largest UDP payload over IPv4

uint16_t rd16(const uint8_t* p) {
  return uint16_t(p[0] << 8 | p[1]);
}
void wr16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

// RFC 791 header checksum.
uint16_t ip_checksum(const uint8_t* h, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += rd16(h + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

// The length of the single question section at dns + 12 (name, type, class), or 0 when the
// message does not carry exactly one uncompressed question within `len` bytes. A query's name
// is never compressed (there is nothing before it to point at), and an answer's question is a
// copy of the query's.
size_t question_len(const uint8_t* dns, size_t len) noexcept {
  if (len < kDnsHdr + 5 || rd16(dns + 4) != 1) return 0;
  size_t i = kDnsHdr;
  size_t name = 0;
  while (true) {
    if (i >= len) return 0;
    const uint8_t l = dns[i];
    if (l == 0) break;
    if (l & 0xc0) return 0;  // a pointer or a reserved label type
    name += size_t(l) + 1;
    if (name + 1 > 255) return 0;  // RFC 1035 2.3.4
    i += size_t(l) + 1;
  }
  i += 1 + 4;  // the root label, QTYPE and QCLASS
  if (i > len) return 0;
  return i - kDnsHdr;
}

uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? uint8_t(c + 32) : c; }

// Names compare case-insensitively (RFC 4343; resolvers may randomise case, the "0x20" trick);
// the label lengths, type and class bytes are unaffected by lower() unless they happen to be
// letters, which is harmless for equal lengths and exact for the type and class compared last.
bool same_question(const uint8_t* a, const uint8_t* b, size_t n) noexcept {
  for (size_t i = 0; i + 4 < n; ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return std::memcmp(a + n - 4, b + n - 4, 4) == 0;
}

}  // namespace

DnsRelay::Opened DnsRelay::open(NatPort& port, ev::EventLoop& loop, const sockaddr_storage& server,
                                in_addr dns, uint32_t mtu) {
  Opened out;
  int fd = socket(server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    out.error = std::string("socket: ") + std::strerror(errno);
    return out;
  }
  socklen_t len = server.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  // Connected: the kernel drops datagrams from anyone but the server.
  if (connect(fd, reinterpret_cast<const sockaddr*>(&server), len) != 0) {
    out.error = std::string("connect: ") + std::strerror(errno);
    close(fd);
    return out;
  }
  out.relay.reset(new DnsRelay(port, fd, dns, mtu));
  out.relay->reg_ = loop.add_fd(fd, ev::Events::kRead, out.relay.get());
  return out;
}

DnsRelay::DnsRelay(NatPort& port, int fd, in_addr dns, uint32_t mtu)
    : port_(port),
      fd_(fd),
      dns_(dns),
      max_dns_(mtu > kIp + kUdp + kDnsHdr ? mtu - kIp - kUdp : kDnsHdr),
      frame_(std::make_unique<uint8_t[]>(kEth + kIp + kUdp + kMaxUdp)),
      query_(std::make_unique<uint8_t[]>(kMaxUdp)) {
  if (max_dns_ > kMaxUdp) max_dns_ = kMaxUdp;
}

DnsRelay::~DnsRelay() {
  reg_.reset();
  close(fd_);
}

DnsRelay::Pending* DnsRelay::free_slot() noexcept {
  Pending* oldest = &pending_[0];
  for (Pending& p : pending_) {
    if (!p.used) return &p;
    if (p.seq < oldest->seq) oldest = &p;
  }
  return oldest;  // every slot busy: the oldest query is forgotten (its answer will not match)
}

bool DnsRelay::take_query(const uint8_t* f, size_t len) noexcept {
  if (len < kEth + kIp + kUdp + kDnsHdr || f[12] != 0x08 || f[13] != 0x00) return false;
  const uint8_t* ip = f + kEth;
  const size_t ihl = size_t(ip[0] & 0x0f) * 4;
  if ((ip[0] >> 4) != 4 || ihl < kIp || ip[9] != 17) return false;
  if (std::memcmp(ip + 16, &dns_.s_addr, 4) != 0) return false;
  if ((rd16(ip + 6) & 0x3fff) != 0) return false;  // fragments: leave them to libslirp
  const size_t ip_len = rd16(ip + 2);
  if (ip_len < ihl + kUdp || kEth + ip_len > len) return false;
  const uint8_t* udp = ip + ihl;
  if (rd16(udp + 2) != 53) return false;
  const size_t udp_len = rd16(udp + 4);
  if (udp_len < kUdp + kDnsHdr || udp_len > ip_len - ihl) return false;
  const uint8_t* dns = udp + kUdp;
  const size_t dns_len = udp_len - kUdp;

  const size_t qlen = question_len(dns, dns_len);
  if (qlen == 0 || (dns[2] & 0x80) != 0) {
    ++errors_;  // not a query with one question: nothing an answer could be matched to
    return true;
  }
  uint16_t id = 0;
  bool unique = false;
  for (int tries = 0; tries < 4 && !unique; ++tries) {
    if (getrandom(&id, sizeof id, GRND_NONBLOCK) != ssize_t(sizeof id)) {
      ++errors_;
      return true;
    }
    unique = true;
    for (const Pending& p : pending_) unique &= !(p.used && p.wire_id == id);
  }
  Pending& p = *free_slot();
  std::memcpy(p.mac, f + 6, 6);
  std::memcpy(&p.ip, ip + 12, 4);
  p.port = rd16(udp);
  p.guest_id = rd16(dns);
  p.wire_id = id;
  p.qlen = uint16_t(qlen);
  std::memcpy(p.question, dns + kDnsHdr, qlen);
  p.seq = ++seq_;
  p.used = true;
  // The query goes out as the guest wrote it, but for the id.
  uint8_t* out = query_.get();
  std::memcpy(out, dns, dns_len);
  wr16(out, id);
  if (send(fd_, out, dns_len, MSG_DONTWAIT) < 0) {
    ++errors_;
    p.used = false;
  } else {
    ++relayed_;
  }
  return true;
}

DnsRelay::Pending* DnsRelay::find_answer(const uint8_t* dns, size_t len) noexcept {
  if (len < kDnsHdr || (dns[2] & 0x80) == 0) return nullptr;  // QR: must be a response
  const uint16_t id = rd16(dns);
  const size_t qlen = question_len(dns, len);
  if (qlen == 0) return nullptr;
  for (Pending& p : pending_) {
    if (p.used && p.wire_id == id && p.qlen == qlen &&
        same_question(p.question, dns + kDnsHdr, qlen)) {
      return &p;
    }
  }
  return nullptr;
}

void DnsRelay::on_readable() {
  uint8_t* frame = frame_.get();
  uint8_t* dns = frame + kEth + kIp + kUdp;
  for (int budget = 0; budget < 32; ++budget) {
    ssize_t got = recv(fd_, dns, kMaxUdp, MSG_DONTWAIT);
    if (got < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++errors_;  // e.g. ECONNREFUSED: no server
      return;
    }
    Pending* pp = find_answer(dns, size_t(got));
    if (!pp) {
      ++mismatched_;  // forged, late (its query was replaced) or not a response at all
      continue;
    }
    Pending& p = *pp;
    p.used = false;
    size_t n = size_t(got);
    if (n > max_dns_) {
      // Too long for one frame toward the guest: header and question only, with TC, so the
      // resolver asks again over TCP (RFC 1035 4.2.1, RFC 7766).
      n = kDnsHdr + p.qlen;
      dns[2] |= 0x02;
      std::memset(dns + 6, 0, 6);  // ANCOUNT, NSCOUNT, ARCOUNT
      ++truncated_;
    }
    wr16(dns, p.guest_id);
    // Ethernet: to the guest, from the MAC the NAT answers ARP with for its DNS address.
    std::memcpy(frame, p.mac, 6);
    frame[6] = 0x52;
    frame[7] = 0x55;
    std::memcpy(frame + 8, &dns_.s_addr, 4);
    frame[12] = 0x08;
    frame[13] = 0x00;
    uint8_t* ip = frame + kEth;
    std::memset(ip, 0, kIp);
    ip[0] = 0x45;
    wr16(ip + 2, uint16_t(kIp + kUdp + n));
    ip[8] = 64;
    ip[9] = 17;
    std::memcpy(ip + 12, &dns_.s_addr, 4);
    std::memcpy(ip + 16, &p.ip, 4);
    wr16(ip + 10, ip_checksum(ip, kIp));
    uint8_t* udp = ip + kIp;
    wr16(udp, 53);
    wr16(udp + 2, p.port);
    wr16(udp + 4, uint16_t(kUdp + n));
    wr16(udp + 6, 0);  // no UDP checksum: allowed over IPv4 (RFC 768)
    ++answered_;
    port_.deliver(frame, kEth + kIp + kUdp + n);
  }
}

}  // namespace uvs::slirpglue
