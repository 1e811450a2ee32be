// SPDX-License-Identifier: MIT
// DnsRelay: query interception, the relay socket, and answer frames built back toward the guest.
#include "slirp-glue/dns_relay.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "slirp-glue/nat_port.h"

namespace uvs::slirpglue {
namespace {

constexpr size_t kEth = 14, kIp = 20, kUdp = 8;
constexpr size_t kMaxDns = 4096;  // EDNS answers above this are not expected on a relay

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

}  // namespace

DnsRelay::Opened DnsRelay::open(NatPort& port, ev::EventLoop& loop, const sockaddr_storage& server,
                                in_addr dns) {
  Opened out;
  int fd = socket(server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    out.error = std::string("socket: ") + std::strerror(errno);
    return out;
  }
  socklen_t len = server.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&server), len) != 0) {
    out.error = std::string("connect: ") + std::strerror(errno);
    close(fd);
    return out;
  }
  out.relay.reset(new DnsRelay(port, fd, dns));
  out.relay->reg_ = loop.add_fd(fd, ev::Events::kRead, out.relay.get());
  return out;
}

DnsRelay::DnsRelay(NatPort& port, int fd, in_addr dns) : port_(port), fd_(fd), dns_(dns) {}

DnsRelay::~DnsRelay() {
  reg_.reset();
  close(fd_);
}

bool DnsRelay::take_query(const uint8_t* f, size_t len) noexcept {
  if (len < kEth + kIp + kUdp + 12 || f[12] != 0x08 || f[13] != 0x00) return false;
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
  if (udp_len < kUdp + 12 || udp_len > ip_len - ihl) return false;
  const uint8_t* dns = udp + kUdp;
  const size_t dns_len = udp_len - kUdp;

  const uint16_t id = next_id_++;
  Pending& p = pending_[id % kSlots];  // the oldest outstanding query in a slot is forgotten
  std::memcpy(p.mac, f + 6, 6);
  std::memcpy(&p.ip, ip + 12, 4);
  p.port = rd16(udp);
  p.guest_id = rd16(dns);
  p.used = true;
  uint8_t buf[kMaxDns];
  const size_t n = dns_len < sizeof buf ? dns_len : sizeof buf;
  std::memcpy(buf, dns, n);
  wr16(buf, id);
  if (send(fd_, buf, n, MSG_DONTWAIT) < 0) {
    ++errors_;
    p.used = false;
  } else {
    ++relayed_;
  }
  return true;
}

void DnsRelay::on_readable() {
  uint8_t frame[kEth + kIp + kUdp + kMaxDns];
  for (int budget = 0; budget < 32; ++budget) {
    ssize_t n = recv(fd_, frame + kEth + kIp + kUdp, kMaxDns, MSG_DONTWAIT);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) ++errors_;  // e.g. ECONNREFUSED: no server
      return;
    }
    if (n < 12) continue;
    uint8_t* dns = frame + kEth + kIp + kUdp;
    const uint16_t id = rd16(dns);
    Pending& p = pending_[id % kSlots];
    if (!p.used) continue;
    p.used = false;
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
    wr16(ip + 2, uint16_t(kIp + kUdp + size_t(n)));
    ip[8] = 64;
    ip[9] = 17;
    std::memcpy(ip + 12, &dns_.s_addr, 4);
    std::memcpy(ip + 16, &p.ip, 4);
    wr16(ip + 10, ip_checksum(ip, kIp));
    uint8_t* udp = ip + kIp;
    wr16(udp, 53);
    wr16(udp + 2, p.port);
    wr16(udp + 4, uint16_t(kUdp + size_t(n)));
    wr16(udp + 6, 0);  // no UDP checksum: allowed over IPv4 (RFC 768)
    ++answered_;
    port_.deliver(frame, kEth + kIp + kUdp + size_t(n));
  }
}

}  // namespace uvs::slirpglue
