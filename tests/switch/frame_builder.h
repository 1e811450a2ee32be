// SPDX-License-Identifier: MIT
// Test helpers that build Ethernet frames (optionally 802.1Q-tagged) with recognisable payloads.
#pragma once

#include <cstdint>
#include <vector>

#include "switch/eth.h"

namespace uvs::bridge::test {

using Bytes = std::vector<uint8_t>;

/// A locally administered unicast MAC 02:00:00:00:xx:yy.
inline MacAddr mac(uint16_t n) { return MacAddr{0x02, 0, 0, 0, uint8_t(n >> 8), uint8_t(n)}; }
inline const MacAddr kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
inline const MacAddr kMulticast{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

/// dst, src, [0x8100 TCI], EtherType 0x0800, then `payload` bytes (seed + i) — `len` is the
/// payload length, so the frame is 14 (or 18) + len bytes.
inline Bytes make_frame(const MacAddr& dst, const MacAddr& src, size_t len, uint8_t seed = 0,
                        int tci = -1, uint16_t ether_type = 0x0800) {
  Bytes f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  if (tci >= 0) {
    f.push_back(0x81);
    f.push_back(0x00);
    f.push_back(uint8_t(tci >> 8));
    f.push_back(uint8_t(tci));
  }
  f.push_back(uint8_t(ether_type >> 8));
  f.push_back(uint8_t(ether_type));
  for (size_t i = 0; i < len; ++i) f.push_back(uint8_t(seed + i));
  return f;
}

/// `f` without its 802.1Q tag (bytes 12..15 removed).
inline Bytes strip_tag(const Bytes& f) {
  Bytes out(f.begin(), f.begin() + 12);
  out.insert(out.end(), f.begin() + 16, f.end());
  return out;
}

/// `f` with a tag carrying `tci` inserted after the MACs.
inline Bytes add_tag(const Bytes& f, uint16_t tci) {
  Bytes out(f.begin(), f.begin() + 12);
  out.push_back(0x81);
  out.push_back(0x00);
  out.push_back(uint8_t(tci >> 8));
  out.push_back(uint8_t(tci));
  out.insert(out.end(), f.begin() + 12, f.end());
  return out;
}

}  // namespace uvs::bridge::test
