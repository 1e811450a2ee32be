// SPDX-License-Identifier: MIT
// NatConnLimit tests: which guest frames open libslirp sockets, and the limit over recorded flows.
#include "slirp-glue/nat_conn_limit.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace uvs::slirpglue {
namespace {

using Bytes = std::vector<uint8_t>;

in_addr v4(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a;
}

// Ethernet + IPv4 (20 bytes) + an L4 header of `l4` bytes.
Bytes ipv4(uint8_t proto, const char* src, const char* dst, Bytes l4, uint16_t frag = 0) {
  Bytes f(12, 0x02);
  f.push_back(0x08);
  f.push_back(0x00);
  Bytes ip(20, 0);
  ip[0] = 0x45;
  ip[6] = uint8_t(frag >> 8);
  ip[7] = uint8_t(frag);
  ip[8] = 64;
  ip[9] = proto;
  in_addr s = v4(src), d = v4(dst);
  std::memcpy(&ip[12], &s, 4);
  std::memcpy(&ip[16], &d, 4);
  f.insert(f.end(), ip.begin(), ip.end());
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags) {
  Bytes t(20, 0);
  t[0] = uint8_t(sport >> 8);
  t[1] = uint8_t(sport);
  t[2] = uint8_t(dport >> 8);
  t[3] = uint8_t(dport);
  t[12] = 0x50;
  t[13] = flags;
  return t;
}

Bytes udp(uint16_t sport, uint16_t dport) {
  Bytes u(8, 0);
  u[0] = uint8_t(sport >> 8);
  u[1] = uint8_t(sport);
  u[2] = uint8_t(dport >> 8);
  u[3] = uint8_t(dport);
  return u;
}

constexpr uint8_t kSyn = 0x02, kAck = 0x10;

// Runs admit() and, when it passes, a registration of `fd` as libslirp would make one.
bool open_flow(NatConnLimit& l, const Bytes& f, size_t open, int fd) {
  if (!l.admit(f.data(), f.size(), open)) return false;
  l.on_register(fd);
  l.input_done();
  return true;
}

TEST_CASE("nat conn limit: new flows up to the limit, then only known ones") {
  NatConnLimit l(2, v4("10.0.2.2"));
  const Bytes syn1 = ipv4(IPPROTO_TCP, "10.0.2.15", "10.0.2.2", tcp(40001, 80, kSyn));
  const Bytes udp1 = ipv4(IPPROTO_UDP, "10.0.2.15", "10.0.2.2", udp(5000, 53));
  CHECK(open_flow(l, syn1, 0, 10));
  CHECK(open_flow(l, udp1, 1, 11));
  CHECK(l.flows() == 2);
  // At the limit: new SYNs, datagrams of new flows and pings out are refused.
  CHECK_FALSE(l.admit(ipv4(IPPROTO_TCP, "10.0.2.15", "10.0.2.2", tcp(40002, 80, kSyn)).data(),
                      54, 2));
  CHECK_FALSE(l.admit(ipv4(IPPROTO_TCP, "10.0.2.15", "10.0.2.9", tcp(40001, 80, kSyn)).data(),
                      54, 2));  // same source port, another connection
  CHECK_FALSE(l.admit(ipv4(IPPROTO_UDP, "10.0.2.15", "10.0.2.2", udp(5001, 53)).data(), 42, 2));
  Bytes ping = ipv4(IPPROTO_ICMP, "10.0.2.15", "192.0.2.1", Bytes{8, 0, 0, 0, 0, 1, 0, 1});
  CHECK_FALSE(l.admit(ping.data(), ping.size(), 2));
  // Known flows, segments of connections, DHCP and pings to the NAT itself pass.
  CHECK(l.admit(syn1.data(), syn1.size(), 2));  // a repeated SYN
  CHECK(l.admit(udp1.data(), udp1.size(), 2));
  Bytes ack = ipv4(IPPROTO_TCP, "10.0.2.15", "10.0.2.2", tcp(40009, 80, kAck));
  CHECK(l.admit(ack.data(), ack.size(), 2));
  Bytes synack = ipv4(IPPROTO_TCP, "10.0.2.15", "10.0.2.2", tcp(40009, 80, kSyn | kAck));
  CHECK(l.admit(synack.data(), synack.size(), 2));
  Bytes dhcp = ipv4(IPPROTO_UDP, "0.0.0.0", "255.255.255.255", udp(68, 67));
  CHECK(l.admit(dhcp.data(), dhcp.size(), 2));
  Bytes ping_nat = ipv4(IPPROTO_ICMP, "10.0.2.15", "10.0.2.2", Bytes{8, 0, 0, 0, 0, 1, 0, 1});
  CHECK(l.admit(ping_nat.data(), ping_nat.size(), 2));
  // A later fragment carries no header: it is never counted.
  Bytes frag = ipv4(IPPROTO_UDP, "10.0.2.15", "10.0.2.2", udp(6000, 53), 0x0010);
  CHECK(l.admit(frag.data(), frag.size(), 2));
  // When a flow's socket closes, a new one fits again.
  l.on_unregister(10);
  CHECK(l.flows() == 1);
  CHECK(open_flow(l, ipv4(IPPROTO_TCP, "10.0.2.15", "10.0.2.2", tcp(40002, 80, kSyn)), 1, 12));
}

TEST_CASE("nat conn limit: a registration outside an admitted input is not a guest flow") {
  NatConnLimit l(4, v4("10.0.2.2"));
  l.on_register(20);  // a forward's listener, or an accepted connection
  CHECK(l.flows() == 0);
  const Bytes other = ipv4(IPPROTO_TCP, "10.0.2.15", "10.0.2.2", tcp(1, 2, kAck));
  CHECK(l.admit(other.data(), other.size(), 0));
  l.on_register(21);  // not a frame that opens anything
  CHECK(l.flows() == 0);
}

TEST_CASE("nat conn limit: IPv6 TCP and UDP, and short or foreign frames") {
  NatConnLimit l(1, v4("10.0.2.2"));
  Bytes f(12, 0x02);
  f.push_back(0x86);
  f.push_back(0xdd);
  Bytes ip(40, 0);
  ip[0] = 0x60;
  ip[6] = IPPROTO_UDP;
  ip[8] = 0xfd;  // fd00::15 -> fd00::2
  ip[23] = 0x15;
  ip[24] = 0xfd;
  ip[39] = 0x02;
  f.insert(f.end(), ip.begin(), ip.end());
  Bytes u = udp(7000, 53);
  f.insert(f.end(), u.begin(), u.end());
  CHECK(open_flow(l, f, 0, 30));
  CHECK(l.admit(f.data(), f.size(), 1));
  f[14 + 40 + 1] = 0x59;  // another source port
  CHECK_FALSE(l.admit(f.data(), f.size(), 1));
  // Truncated headers and other EtherTypes are not flows.
  for (size_t n : {size_t(0), size_t(13), size_t(20), size_t(14 + 40 + 4)}) {
    CHECK(l.admit(f.data(), n, 1));
  }
  Bytes arp(42, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  CHECK(l.admit(arp.data(), arp.size(), 1));
}

}  // namespace
}  // namespace uvs::slirpglue
