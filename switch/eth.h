// SPDX-License-Identifier: MIT
// Ethernet and 802.1Q header layout: offsets, ether types and MAC helpers the bridge reads frames with.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace uvs::bridge {

/// IEEE 802.3 / 802.1Q-2018 9.3: dst MAC, src MAC, then either the EtherType or the 4-byte tag
/// (TPID 0x8100 + TCI) followed by the EtherType.
inline constexpr size_t kMacLen = 6;
inline constexpr size_t kEthHdrLen = 14;      ///< untagged header
inline constexpr size_t kVlanTagLen = 4;      ///< TPID + TCI
inline constexpr size_t kVlanHdrLen = 18;     ///< tagged header
inline constexpr size_t kEtherTypeOffset = 12;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  ///< C-VLAN TPID (802.1Q 9.5)

/// VLAN ids: 0 means "priority tag only", 4095 is reserved (802.1Q-2018 Table 9-2).
inline constexpr uint16_t kDefaultVlan = 1;
inline constexpr uint16_t kMinVid = 1;
inline constexpr uint16_t kMaxVid = 4094;

using MacAddr = std::array<uint8_t, kMacLen>;

/// True for group addresses (the I/G bit, 802-2014 8.2): broadcast and multicast.
inline bool is_group_mac(const uint8_t* mac) noexcept { return (mac[0] & 1) != 0; }

/// True for 00:00:00:00:00:00, which no station may use as its address.
inline bool is_zero_mac(const uint8_t* mac) noexcept {
  return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

/// The 48 address bits as an integer, first byte most significant.
inline uint64_t mac_to_u64(const uint8_t* mac) noexcept {
  uint64_t v = 0;
  for (size_t i = 0; i < kMacLen; ++i) v = (v << 8) | mac[i];
  return v;
}

/// Inverse of mac_to_u64.
inline MacAddr u64_to_mac(uint64_t v) noexcept {
  MacAddr m{};
  for (size_t i = kMacLen; i-- > 0;) {
    m[i] = uint8_t(v & 0xff);
    v >>= 8;
  }
  return m;
}

/// "52:54:00:12:34:56". Control path (allocates).
inline std::string format_mac(const MacAddr& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

/// Big-endian 16-bit field at `p`.
inline uint16_t load_be16(const uint8_t* p) noexcept { return uint16_t((p[0] << 8) | p[1]); }
inline void store_be16(uint8_t* p, uint16_t v) noexcept {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

}  // namespace uvs::bridge
