// SPDX-License-Identifier: MIT
// NetHdr: TX header validation (virtio 1.2 §5.1.6.2) and RX header construction (§5.1.6.4).
#include "netback/common/net_hdr.h"

#include "port/offload_layout.h"

namespace uvs::netback {

namespace {

namespace feat = virtio::feature;
using port::Offload;
namespace cap = port::OffloadCap;

bool has(uint64_t acked, uint32_t bit) noexcept { return (acked >> bit) & 1; }

}  // namespace

const char* bad_hdr_name(BadHdr reason) noexcept {
  switch (reason) {
    case BadHdr::kNone: return "none";
    case BadHdr::kCsumNotNegotiated: return "csum-not-negotiated";
    case BadHdr::kGsoNotNegotiated: return "gso-not-negotiated";
    case BadHdr::kGsoUnknown: return "gso-unknown";
    case BadHdr::kGsoWithoutCsum: return "gso-without-csum";
    case BadHdr::kGsoSize: return "gso-size";
    case BadHdr::kHdrLen: return "hdr-len";
    case BadHdr::kCsumRange: return "csum-range";
    case BadHdr::kGsoMismatch: return "gso-mismatch";
  }
  return "unknown";
}

NetOffloadFeatures NetOffloadFeatures::from_acked(uint64_t acked) noexcept {
  NetOffloadFeatures f;
  f.host_csum = has(acked, feat::kNetCsum);
  f.host_tso4 = f.host_csum && has(acked, feat::kNetHostTso4);
  f.host_tso6 = f.host_csum && has(acked, feat::kNetHostTso6);
  f.host_ecn = (f.host_tso4 || f.host_tso6) && has(acked, feat::kNetHostEcn);
  f.host_uso = f.host_csum && has(acked, feat::kNetHostUso);
  if (has(acked, feat::kNetGuestCsum)) {
    f.guest_caps |= cap::kCsum;
    if (has(acked, feat::kNetGuestTso4)) f.guest_caps |= cap::kTso4;
    if (has(acked, feat::kNetGuestTso6)) f.guest_caps |= cap::kTso6;
    if ((f.guest_caps & (cap::kTso4 | cap::kTso6)) && has(acked, feat::kNetGuestEcn)) {
      f.guest_caps |= cap::kTsoEcn;
    }
    // The switch has one UDP GSO type for both IP versions, so the guest must take both.
    if (has(acked, feat::kNetGuestUso4) && has(acked, feat::kNetGuestUso6)) {
      f.guest_caps |= cap::kUso;
    }
  }
  return f;
}

BadHdr parse_tx_hdr(const virtio::VirtioNetHdrV1& h, const port::Frame& f,
                    const NetOffloadFeatures& feat, Offload* out) noexcept {
  *out = Offload{};
  const bool csum = (h.flags & virtio::kNetHdrFNeedsCsum) != 0;
  const bool ecn = (h.gso_type & virtio::kNetHdrGsoEcn) != 0;
  const uint8_t type = h.gso_type & static_cast<uint8_t>(~virtio::kNetHdrGsoEcn);
  if (!csum && h.gso_type == virtio::kNetHdrGsoNone) [[likely]] return BadHdr::kNone;

  if (csum && !feat.host_csum) return BadHdr::kCsumNotNegotiated;
  Offload::Gso gso = Offload::Gso::kNone;
  switch (type) {
    case virtio::kNetHdrGsoNone:
      if (ecn) return BadHdr::kGsoUnknown;  // ECN qualifies a TCP GSO type only
      break;
    case virtio::kNetHdrGsoTcpV4:
      if (!feat.host_tso4) return BadHdr::kGsoNotNegotiated;
      gso = Offload::Gso::kTcpV4;
      break;
    case virtio::kNetHdrGsoTcpV6:
      if (!feat.host_tso6) return BadHdr::kGsoNotNegotiated;
      gso = Offload::Gso::kTcpV6;
      break;
    case virtio::kNetHdrGsoUdpL4:
      if (ecn) return BadHdr::kGsoUnknown;
      if (!feat.host_uso) return BadHdr::kGsoNotNegotiated;
      gso = Offload::Gso::kUdpL4;
      break;
    case virtio::kNetHdrGsoUdp:
      return BadHdr::kGsoNotNegotiated;  // UFO: HOST_UFO is never offered
    default:
      return BadHdr::kGsoUnknown;
  }
  if (ecn && !feat.host_ecn) return BadHdr::kGsoNotNegotiated;
  // hdr_len is only a hint without GUEST_HDRLEN (§5.1.6.2.2), but one past the frame is a lie.
  if (h.hdr_len > f.len) return BadHdr::kHdrLen;
  if (csum) {
    Offload c;
    c.flags = Offload::kNeedsCsum;
    c.csum_start = h.csum_start;
    c.csum_offset = h.csum_offset;
    if (port::check_csum_offsets(c, f.len) != port::OffloadError::kNone) return BadHdr::kCsumRange;
  }
  if (gso == Offload::Gso::kNone) {
    out->flags = Offload::kNeedsCsum;
    out->csum_start = h.csum_start;
    out->csum_offset = h.csum_offset;
    return BadHdr::kNone;
  }
  if (!csum) return BadHdr::kGsoWithoutCsum;
  if (h.gso_size == 0) return BadHdr::kGsoSize;

  // The switch's segmenter parses GSO frames with the same function, so what passes here is
  // exactly what it can cut: Ethernet with up to two VLAN tags, IPv4 without fragments or IPv6
  // (extension headers walked), TCP or UDP as the type says, lengths inside the frame, and the
  // checksum fields at the L4 checksum.
  Offload want;
  want.flags = Offload::kNeedsCsum;
  want.gso = gso;
  want.gso_size = h.gso_size;
  want.csum_start = h.csum_start;
  want.csum_offset = h.csum_offset;
  uint8_t peek[port::kMaxOffloadHdr];
  const size_t avail = f.copy_out(0, peek, f.len < sizeof peek ? f.len : sizeof peek);
  port::OffloadLayout l;
  if (port::parse_gso_layout(peek, avail, f.len, want, &l) != port::OffloadError::kNone) {
    return BadHdr::kGsoMismatch;
  }
  if (h.gso_size > l.end - l.hdr_len) return BadHdr::kGsoSize;  // also catches an empty payload

  out->flags = Offload::kNeedsCsum;
  out->gso = gso;
  out->ecn = ecn;
  out->gso_size = h.gso_size;
  out->hdr_len = l.hdr_len;
  out->csum_start = h.csum_start;
  out->csum_offset = h.csum_offset;
  return BadHdr::kNone;
}

bool make_rx_hdr(const Offload& ol, uint32_t guest_caps, virtio::VirtioNetHdrV1* h) noexcept {
  *h = virtio::VirtioNetHdrV1{};
  h->num_buffers = 1;
  if (ol.plain()) [[likely]] return true;
  if (ol.flags & Offload::kNeedsCsum) {
    if (!(guest_caps & cap::kCsum)) return false;
    h->flags = virtio::kNetHdrFNeedsCsum;
    h->csum_start = ol.csum_start;
    h->csum_offset = ol.csum_offset;
  } else if ((ol.flags & Offload::kDataValid) && (guest_caps & cap::kCsum)) {
    // §5.1.6.4.1: DATA_VALID only with GUEST_CSUM. Without it the hint is just not passed on:
    // the checksums are complete, so the plain frame is still right.
    h->flags = virtio::kNetHdrFDataValid;
  }
  uint8_t type = virtio::kNetHdrGsoNone;
  switch (ol.gso) {
    case Offload::Gso::kNone:
      return true;
    case Offload::Gso::kTcpV4:
      if (!(guest_caps & cap::kTso4)) return false;
      type = virtio::kNetHdrGsoTcpV4;
      break;
    case Offload::Gso::kTcpV6:
      if (!(guest_caps & cap::kTso6)) return false;
      type = virtio::kNetHdrGsoTcpV6;
      break;
    case Offload::Gso::kUdpL4:
      if (!(guest_caps & cap::kUso)) return false;
      type = virtio::kNetHdrGsoUdpL4;
      break;
    default:
      return false;
  }
  if (ol.ecn) {
    if (!(guest_caps & cap::kTsoEcn)) return false;
    type |= virtio::kNetHdrGsoEcn;
  }
  h->gso_type = type;
  h->gso_size = ol.gso_size;
  h->hdr_len = ol.hdr_len;
  return true;
}

}  // namespace uvs::netback
