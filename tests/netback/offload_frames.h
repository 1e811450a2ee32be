// SPDX-License-Identifier: MIT
// Test frames for offload cases: Ethernet [VLAN] IPv4/IPv6 TCP/UDP superframes and the virtio-net
// headers a guest driver would put in front of them (correct ones, and ones to break).
#pragma once

#include <cstdint>
#include <vector>

#include "netback/common/virtio_defs.h"

namespace uvs::netback::test {

/// What offload_frame builds.
struct OffloadFrameSpec {
  bool ipv6 = false;
  uint8_t proto = 6;         ///< 6 TCP, 17 UDP
  uint32_t payload = 4000;   ///< L4 payload bytes
  uint16_t vlan = 0;         ///< 802.1Q tag when non-zero
  uint8_t tcp_options = 12;  ///< extra TCP header bytes (a multiple of 4), e.g. timestamps
  uint8_t id = 1;            ///< source MAC 02:00:00:00:00:id; payload pattern seed
};

/// Ethernet frame (broadcast destination) with correct IP lengths and a TCP/UDP header whose
/// checksum field is left zero (as a sender with checksum offload leaves the partial sum).
inline std::vector<uint8_t> offload_frame(const OffloadFrameSpec& s) {
  std::vector<uint8_t> f;
  auto put16 = [&](uint16_t v) {
    f.push_back(uint8_t(v >> 8));
    f.push_back(uint8_t(v));
  };
  for (int i = 0; i < 6; ++i) f.push_back(0xff);
  const uint8_t src[6] = {0x02, 0, 0, 0, 0, s.id};
  f.insert(f.end(), src, src + 6);
  if (s.vlan) {
    put16(0x8100);
    put16(s.vlan);
  }
  const uint32_t l4_len = s.proto == 6 ? 20u + s.tcp_options : 8u;
  if (!s.ipv6) {
    put16(0x0800);
    f.push_back(0x45);
    f.push_back(0);
    put16(uint16_t(20 + l4_len + s.payload));
    put16(0x1234);
    put16(0x4000);  // DF
    f.push_back(64);
    f.push_back(s.proto);
    put16(0);
    for (uint8_t b : {10, 0, 0, 1, 10, 0, 0, 2}) f.push_back(b);
  } else {
    put16(0x86dd);
    f.push_back(0x60);
    f.push_back(0);
    put16(0);
    put16(uint16_t(l4_len + s.payload));
    f.push_back(s.proto);
    f.push_back(64);
    for (int i = 0; i < 32; ++i) f.push_back(uint8_t(i < 16 ? (i == 15 ? 1 : 0xfd) : (i == 31 ? 2 : 0xfd)));
  }
  if (s.proto == 6) {
    put16(40000);
    put16(80);
    put16(0x0102);
    put16(0x0304);  // seq
    put16(0);
    put16(0);       // ack
    f.push_back(uint8_t(((20 + s.tcp_options) / 4) << 4));
    f.push_back(0x18);  // PSH ACK
    put16(65535);
    put16(0);  // checksum
    put16(0);
    for (int i = 0; i < s.tcp_options; ++i) f.push_back(1);  // NOPs
  } else {
    put16(40000);
    put16(4789);
    put16(uint16_t(8 + s.payload));
    put16(0);
  }
  for (uint32_t i = 0; i < s.payload; ++i) f.push_back(uint8_t(i * 7 + s.id));
  return f;
}

/// Offset of the L4 header in offload_frame(s).
inline uint16_t l4_offset(const OffloadFrameSpec& s) {
  return uint16_t(14 + (s.vlan ? 4 : 0) + (s.ipv6 ? 40 : 20));
}

/// The header a correct driver sends with offload_frame(s): NEEDS_CSUM at the L4 checksum and,
/// with `mss`, the GSO type for the frame's L3/L4.
inline virtio::VirtioNetHdrV1 offload_hdr(const OffloadFrameSpec& s, uint16_t mss) {
  virtio::VirtioNetHdrV1 h{};
  h.flags = virtio::kNetHdrFNeedsCsum;
  h.csum_start = l4_offset(s);
  h.csum_offset = s.proto == 6 ? 16 : 6;
  if (mss) {
    h.gso_type = s.proto == 17 ? virtio::kNetHdrGsoUdpL4
                 : s.ipv6      ? virtio::kNetHdrGsoTcpV6
                               : virtio::kNetHdrGsoTcpV4;
    h.gso_size = mss;
    h.hdr_len = uint16_t(h.csum_start + (s.proto == 6 ? 20 + s.tcp_options : 8));
  }
  return h;
}

}  // namespace uvs::netback::test
