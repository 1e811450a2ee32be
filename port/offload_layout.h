// SPDX-License-Identifier: MIT
// OffloadLayout: where an offloaded frame's IP and L4 headers sit, and why a header is refused.
#pragma once

#include <cstddef>
#include <cstdint>

#include "port/offload.h"

namespace uvs::port {

/// Why a frame's offload metadata does not match the frame. Ports and the switch count drops by
/// this reason (one counter each).
enum class OffloadError : uint8_t {
  kNone,
  kCsumOffsets,  ///< csum_start / csum_offset outside the frame, or not at the L4 checksum
  kGsoSize,      ///< gso_size 0 on a GSO frame
  kL3,           ///< no IPv4/IPv6 header where the GSO type needs one (or a fragment, bad length)
  kL4,           ///< L4 header missing, truncated or of the wrong protocol for the GSO type
  kTooBig,       ///< larger than kMaxFrameLen, or a header longer than kMaxOffloadHdr
};
inline constexpr size_t kOffloadErrorCount = 6;

inline const char* offload_error_name(OffloadError e) noexcept {
  switch (e) {
    case OffloadError::kNone: return "none";
    case OffloadError::kCsumOffsets: return "csum-offsets";
    case OffloadError::kGsoSize: return "gso-size";
    case OffloadError::kL3: return "l3";
    case OffloadError::kL4: return "l4";
    case OffloadError::kTooBig: return "too-big";
  }
  return "?";
}

/// The longest Ethernet + IP + L4 header a GSO frame may have: two VLAN tags, an IPv6 header
/// with extension headers (or IPv4 with 40 bytes of options) and a TCP header with 40 bytes of
/// options.
inline constexpr size_t kMaxOffloadHdr = 256;

/// Offsets of a GSO frame's headers, from the frame's first byte.
struct OffloadLayout {
  uint16_t l3 = 0;       ///< IPv4 / IPv6 header
  uint16_t l4 = 0;       ///< TCP / UDP header
  uint16_t hdr_len = 0;  ///< l4 + L4 header length: where the payload starts
  uint32_t end = 0;      ///< l3 + the IP datagram's length (<= frame length; the rest is padding)
  bool ipv6 = false;
  uint8_t proto = 0;     ///< 6 TCP, 17 UDP
};

namespace detail {
inline uint16_t be16(const uint8_t* p) noexcept { return uint16_t(p[0] << 8 | p[1]); }
}  // namespace detail

/// Checks csum_start / csum_offset against a frame of `len` bytes: the 2-byte field must lie
/// inside the frame and past the Ethernet header.
inline OffloadError check_csum_offsets(const Offload& ol, uint32_t len) noexcept {
  if (!ol.needs_csum()) return OffloadError::kNone;
  const uint32_t at = uint32_t(ol.csum_start) + ol.csum_offset;
  if (ol.csum_start < 14 || ol.csum_start >= len || at + 2 > len) {
    return OffloadError::kCsumOffsets;
  }
  return OffloadError::kNone;
}

/// Parses the headers of a GSO frame of `len` bytes whose first `n` bytes are at `hdr`
/// (n = min(len, kMaxOffloadHdr) is enough) and checks them against `ol`: the L3 the GSO type
/// names (IPv4 for kTcpV4, IPv6 for kTcpV6, either for kUdpL4), not a fragment, the L4 protocol,
/// lengths inside the frame, and csum_start/csum_offset at the L4 checksum when kNeedsCsum.
/// Pure function of its inputs; never reads past hdr[n).
inline OffloadError parse_gso_layout(const uint8_t* hdr, size_t n, uint32_t len, const Offload& ol,
                                     OffloadLayout* out) noexcept {
  using detail::be16;
  if (len > 65535 + 14 + 4) return OffloadError::kTooBig;  // kMaxFrameLen
  if (ol.gso_size == 0) return OffloadError::kGsoSize;
  if (n > len) n = len;
  size_t off = 12;
  if (n < off + 2) return OffloadError::kL3;
  uint16_t type = be16(hdr + off);
  // 802.1Q C-tag and 802.1ad S-tag, at most two (QinQ).
  for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2; ++tags) {
    off += 4;
    if (n < off + 2) return OffloadError::kL3;
    type = be16(hdr + off);
  }
  off += 2;
  OffloadLayout l;
  l.l3 = uint16_t(off);
  const bool want_v4 = ol.gso == Offload::Gso::kTcpV4;
  const bool want_v6 = ol.gso == Offload::Gso::kTcpV6;
  const uint8_t want_proto = ol.gso == Offload::Gso::kUdpL4 ? 17 : 6;
  if (ol.gso == Offload::Gso::kNone) return OffloadError::kL3;
  uint8_t proto;
  if (type == 0x0800 && !want_v6) {
    if (n < off + 20 || (hdr[off] >> 4) != 4) return OffloadError::kL3;
    const size_t ihl = size_t(hdr[off] & 0xf) * 4;
    const uint32_t tot = be16(hdr + off + 2);
    const uint16_t frag = be16(hdr + off + 6);
    if (ihl < 20 || tot < ihl || off + tot > len || (frag & 0x3fff) != 0) return OffloadError::kL3;
    if (n < off + ihl) return OffloadError::kTooBig;
    proto = hdr[off + 9];
    l.end = uint32_t(off + tot);
    off += ihl;
  } else if (type == 0x86dd && !want_v4) {
    if (n < off + 40 || (hdr[off] >> 4) != 6) return OffloadError::kL3;
    const uint32_t plen = be16(hdr + off + 4);
    if (off + 40 + plen > len) return OffloadError::kL3;
    l.end = uint32_t(off + 40 + plen);
    l.ipv6 = true;
    proto = hdr[off + 6];
    off += 40;
    // Hop-by-hop, routing and destination options may precede the L4 header (RFC 8200 4.1);
    // a fragment header (44) means the datagram cannot be segmented.
    while (proto == 0 || proto == 43 || proto == 60) {
      if (n < off + 8) return OffloadError::kTooBig;
      const size_t ext = (size_t(hdr[off + 1]) + 1) * 8;
      proto = hdr[off];
      off += ext;
      if (off > l.end) return OffloadError::kL3;
    }
  } else {
    return OffloadError::kL3;
  }
  if (proto != want_proto) return OffloadError::kL4;
  l.proto = proto;
  l.l4 = uint16_t(off);
  size_t l4len = 8;
  if (proto == 6) {
    if (n < off + 20) return off + 20 > l.end ? OffloadError::kL4 : OffloadError::kTooBig;
    l4len = size_t(hdr[off + 12] >> 4) * 4;
    if (l4len < 20) return OffloadError::kL4;
  }
  if (off + l4len > l.end) return OffloadError::kL4;
  if (off + l4len > n) return OffloadError::kTooBig;
  l.hdr_len = uint16_t(off + l4len);
  if (ol.needs_csum() &&
      (ol.csum_start != l.l4 || ol.csum_offset != (proto == 6 ? 16 : 6))) {
    return OffloadError::kCsumOffsets;
  }
  *out = l;
  return OffloadError::kNone;
}

}  // namespace uvs::port
