// SPDX-License-Identifier: MIT
// VXLAN wire format (RFC 7348 section 5): the 8-byte header, the checks a received datagram
// must pass, and the inner-flow hash that picks the outer UDP source port.
#pragma once

#include <cstddef>
#include <cstdint>

#include "port/frame.h"

namespace uvs::netback::vxlan {

inline constexpr size_t kHeaderLen = 8;
inline constexpr uint8_t kFlagI = 0x08;          ///< "I" flag: the VNI is valid
inline constexpr uint32_t kMaxVni = 0xffffff;    ///< 24 bits
inline constexpr uint16_t kDefaultPort = 4789;   ///< IANA-assigned destination port
/// RFC 7348 section 5 recommends a source port from a hash of the inner frame, in the dynamic
/// range 49152-65535 (RFC 6335).
inline constexpr uint16_t kSrcPortMin = 49152;
/// Outer headers added to an inner Ethernet frame: 8 VXLAN + 8 UDP + 20 IPv4 / 40 IPv6.
inline constexpr uint32_t kOverheadV4 = 8 + 8 + 20;
inline constexpr uint32_t kOverheadV6 = 8 + 8 + 40;

/// Writes the header for `vni` (I flag set, reserved bits zero) into `out[0..8)`.
void write_header(uint8_t* out, uint32_t vni) noexcept;

/// Why a received datagram is not a frame of this segment.
enum class Decap : uint8_t {
  kOk,
  kTooShort,  ///< shorter than the header plus an Ethernet header
  kNoIFlag,   ///< I flag clear: no valid VNI (RFC 7348 section 5)
  kWrongVni,  ///< another segment's VNI
};

/// Checks the datagram `p[0..len)` against `vni`. Reserved bits are ignored on receipt, as the
/// RFC requires. On kOk the inner frame is `p + kHeaderLen`, `len - kHeaderLen` bytes, at least
/// an Ethernet header. Never reads outside `p[0..len)`; data path, no allocation.
Decap decapsulate(const uint8_t* p, size_t len, uint32_t vni) noexcept;

/// A hash of the inner frame's flow: MACs and EtherType, and for IPv4 / IPv6 (behind at most one
/// 802.1Q tag) the addresses, protocol and, for unfragmented TCP / UDP / SCTP, the ports. Frames
/// of one TCP connection always hash alike, so they leave by one source port and stay in order
/// on an ECMP underlay. Never reads past the frame; data path.
uint32_t flow_hash(const port::Frame& f) noexcept;

}  // namespace uvs::netback::vxlan
