// SPDX-License-Identifier: MIT
// VXLAN header encode/decode and the inner-flow hash.
#include "netback/host/vxlan_wire.h"

#include <cstring>

namespace uvs::netback::vxlan {
namespace {

// FNV-1a over the selected bytes, then a murmur3 finalizer so the low bits (which pick the
// source port) depend on every input byte.
struct Hasher {
  uint32_t h = 2166136261u;
  void add(const uint8_t* p, size_t n) noexcept {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  }
  uint32_t finish() const noexcept {
    uint32_t x = h;
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
  }
};

constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;
constexpr uint16_t kEthVlan = 0x8100;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoSctp = 132;

bool has_ports(uint8_t proto) {
  return proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp;
}

}  // namespace

void write_header(uint8_t* out, uint32_t vni) noexcept {
  std::memset(out, 0, kHeaderLen);
  out[0] = kFlagI;
  out[4] = static_cast<uint8_t>(vni >> 16);
  out[5] = static_cast<uint8_t>(vni >> 8);
  out[6] = static_cast<uint8_t>(vni);
}

Decap decapsulate(const uint8_t* p, size_t len, uint32_t vni) noexcept {
  if (len < kHeaderLen + port::kMinFrameLen) return Decap::kTooShort;
  if (!(p[0] & kFlagI)) return Decap::kNoIFlag;
  const uint32_t got = uint32_t(p[4]) << 16 | uint32_t(p[5]) << 8 | p[6];
  if (got != vni) return Decap::kWrongVni;
  return Decap::kOk;
}

uint32_t flow_hash(const port::Frame& f) noexcept {
  // Ethernet + one tag + an IPv6 header + the ports: everything the hash may look at.
  uint8_t b[14 + 4 + 40 + 4];
  const size_t n = f.copy_out(0, b, sizeof b);
  Hasher h;
  if (n < 14) {
    h.add(b, n);
    return h.finish();
  }
  h.add(b, 12);
  size_t off = 12;
  uint16_t type = uint16_t(b[off] << 8 | b[off + 1]);
  if (type == kEthVlan && n >= 18) {
    h.add(b + 14, 2);  // the VLAN id
    off += 4;
    type = uint16_t(b[off] << 8 | b[off + 1]);
  }
  h.add(b + off, 2);
  off += 2;
  if (type == kEthIpv4 && n >= off + 20) {
    const uint8_t* ip = b + off;
    const size_t ihl = size_t(ip[0] & 0x0f) * 4;
    h.add(ip + 9, 1);    // protocol
    h.add(ip + 12, 8);   // source and destination
    const bool fragment = ((ip[6] & 0x3f) | ip[7]) != 0;  // MF or a fragment offset
    if (!fragment && has_ports(ip[9]) && ihl >= 20 && n >= off + ihl + 4) h.add(ip + ihl, 4);
  } else if (type == kEthIpv6 && n >= off + 40) {
    const uint8_t* ip = b + off;
    h.add(ip + 6, 1);    // next header
    h.add(ip + 8, 32);   // source and destination
    if (has_ports(ip[6]) && n >= off + 44) h.add(ip + 40, 4);
  }
  return h.finish();
}

}  // namespace uvs::netback::vxlan
