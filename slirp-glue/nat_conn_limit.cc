// SPDX-License-Identifier: MIT
// NatConnLimit: frame classification (IPv4/IPv6, TCP SYN, UDP, ICMP echo) and the flow records.
#include "slirp-glue/nat_conn_limit.h"

#include <algorithm>
#include <cstring>

namespace uvs::slirpglue {
namespace {

constexpr size_t kEthLen = 14;
constexpr uint16_t kTypeIpv4 = 0x0800;
constexpr uint16_t kTypeIpv6 = 0x86dd;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kIcmpEcho = 8;
constexpr uint16_t kDhcpServerPort = 67;    // RFC 2131: libslirp's bootp answers it
constexpr uint16_t kDhcp6ServerPort = 547;  // RFC 8415: libslirp's dhcpv6 answers it

uint16_t be16(const uint8_t* p) { return uint16_t((p[0] << 8) | p[1]); }

}  // namespace

NatConnLimit::NatConnLimit(uint32_t max, in_addr host) : max_(max), host_(host) {
  flows_.reserve(max_);
}

NatConnLimit::Kind NatConnLimit::classify(const uint8_t* f, size_t len,
                                          FlowKey* key) const noexcept {
  if (len < kEthLen) return Kind::kOther;
  const uint16_t type = be16(f + 12);
  const uint8_t* ip = f + kEthLen;
  const size_t iplen = len - kEthLen;
  const uint8_t* l4;
  size_t l4len;
  uint8_t proto;
  const uint8_t* daddr;
  size_t daddr_len;
  if (type == kTypeIpv4) {
    if (iplen < 20 || (ip[0] >> 4) != 4) return Kind::kOther;
    const size_t ihl = size_t(ip[0] & 0x0f) * 4;
    // Only a first fragment carries the transport header (RFC 791); libslirp reassembles
    // before it opens anything, so the first fragment decides.
    if (ihl < 20 || iplen < ihl || (be16(ip + 6) & 0x1fff) != 0) return Kind::kOther;
    proto = ip[9];
    l4 = ip + ihl;
    l4len = iplen - ihl;
    key->family = 4;
    std::memcpy(key->addr, ip + 12, 4);
    daddr = ip + 16;
    daddr_len = 4;
    if (proto == IPPROTO_ICMP) {
      // libslirp answers pings to its own address; others get a socket each (icmp_send).
      const bool to_host = std::memcmp(ip + 16, &host_, 4) == 0;
      return l4len >= 1 && l4[0] == kIcmpEcho && !to_host ? Kind::kPing : Kind::kOther;
    }
  } else if (type == kTypeIpv6) {
    // libslirp 4.7 reads no extension headers: TCP and UDP follow the fixed header directly.
    if (iplen < 40 || (ip[0] >> 4) != 6) return Kind::kOther;
    proto = ip[6];
    l4 = ip + 40;
    l4len = iplen - 40;
    key->family = 6;
    std::memcpy(key->addr, ip + 8, 16);
    daddr = ip + 24;
    daddr_len = 16;
  } else {
    return Kind::kOther;
  }
  key->proto = proto;
  if (proto == IPPROTO_TCP) {
    if (l4len < 14) return Kind::kOther;
    // A SYN without ACK asks libslirp to connect (tcp_fconnect); everything else belongs to a
    // socket that exists or is refused by libslirp itself.
    if ((l4[13] & (kTcpSyn | kTcpAck)) != kTcpSyn) return Kind::kOther;
    std::memcpy(&key->port, l4, 2);
    std::memcpy(&key->dport, l4 + 2, 2);
    std::memcpy(key->daddr, daddr, daddr_len);
    return Kind::kFlow;
  }
  if (proto == IPPROTO_UDP) {
    if (l4len < 8) return Kind::kOther;
    const uint16_t dport = be16(l4 + 2);
    if ((key->family == 4 && dport == kDhcpServerPort) ||
        (key->family == 6 && dport == kDhcp6ServerPort)) {
      return Kind::kOther;
    }
    std::memcpy(&key->port, l4, 2);
    return Kind::kFlow;
  }
  return Kind::kOther;
}

bool NatConnLimit::known(const FlowKey& key) const noexcept {
  return std::any_of(flows_.begin(), flows_.end(), [&](const Flow& f) { return f.key == key; });
}

bool NatConnLimit::admit(const uint8_t* frame, size_t len, size_t open) noexcept {
  pending_ = false;
  FlowKey key;
  switch (classify(frame, len, &key)) {
    case Kind::kOther:
      return true;
    case Kind::kPing:
      // One socket per echo request, gone after its answer: nothing to recognise later.
      return open < max_;
    case Kind::kFlow:
      break;
  }
  if (known(key)) return true;  // its socket exists: libslirp opens no other
  if (open >= max_) return false;
  pending_ = true;
  pending_key_ = key;
  return true;
}

void NatConnLimit::on_register(int fd) noexcept {
  if (!pending_) return;  // a forward's listener or an accepted connection: not a guest flow
  pending_ = false;
  on_unregister(fd);
  if (flows_.size() < flows_.capacity()) flows_.push_back(Flow{fd, pending_key_});
}

void NatConnLimit::on_unregister(int fd) noexcept {
  auto it = std::find_if(flows_.begin(), flows_.end(), [&](const Flow& f) { return f.fd == fd; });
  if (it == flows_.end()) return;
  *it = flows_.back();
  flows_.pop_back();
}

}  // namespace uvs::slirpglue
