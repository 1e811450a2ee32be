// SPDX-License-Identifier: MIT
// flow_hash: a frame's flow identity (addresses and ports) folded into 32 bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "port/frame.h"

namespace uvs::port {

namespace detail {

inline uint32_t fold(uint32_t h, uint32_t v) noexcept {
  // One multiply-xorshift round per word (the finaliser of MurmurHash3's 32-bit mix).
  h ^= v;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  return h;
}

inline uint32_t load32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace detail

/// A hash that is equal for every frame of one flow: the IPv4/IPv6 addresses and, for TCP and
/// UDP (first fragment or unfragmented IPv4; IPv6 without extension headers), the ports; the two
/// MAC addresses for anything else. One 802.1Q/802.1ad tag is looked through. Reads at most the
/// frame's first 58 bytes and never past its end. Any thread; no allocation.
inline uint32_t flow_hash(const Frame& f) noexcept {
  uint8_t b[58];
  const size_t n = f.copy_out(0, b, sizeof b);
  uint32_t h = 0x9e3779b9u;
  if (n < 14) return detail::fold(h, uint32_t(n));
  size_t off = 12;
  uint16_t type = uint16_t(b[off] << 8 | b[off + 1]);
  if ((type == 0x8100 || type == 0x88a8) && n >= 18) {
    off += 4;
    type = uint16_t(b[off] << 8 | b[off + 1]);
  }
  off += 2;
  size_t l4 = 0;
  uint8_t proto = 0;
  if (type == 0x0800 && n >= off + 20) {
    const uint8_t* ip = b + off;
    h = detail::fold(h, detail::load32(ip + 12));
    h = detail::fold(h, detail::load32(ip + 16));
    proto = ip[9];
    const bool later_fragment = ((ip[6] & 0x1f) | ip[7]) != 0;
    if (!later_fragment) l4 = off + size_t(ip[0] & 0x0f) * 4;
  } else if (type == 0x86dd && n >= off + 40) {
    const uint8_t* ip = b + off;
    for (size_t k = 8; k < 40; k += 4) {  // source and destination addresses
      h = detail::fold(h, detail::load32(ip + k));
    }
    proto = ip[6];
    l4 = off + 40;
  } else {
    h = detail::fold(h, detail::load32(b));
    h = detail::fold(h, detail::load32(b + 4));
    h = detail::fold(h, detail::load32(b + 8));
    return detail::fold(h, type);
  }
  if ((proto == 6 || proto == 17) && l4 != 0) {
    uint8_t ports[4];
    if (f.copy_out(l4, ports, 4) == 4) h = detail::fold(h, detail::load32(ports));
  }
  return detail::fold(h, proto);
}

}  // namespace uvs::port
