// SPDX-License-Identifier: MIT
// Port VLAN membership: validation, ingress classification and allocation-free egress views.
#include "switch/vlan.h"

#include <cstring>

namespace uvs::bridge {

namespace {

bool valid_vid(uint16_t vid) { return vid >= kMinVid && vid <= kMaxVid; }

}  // namespace

PortVlan::PortVlan() { members_.set(kDefaultVlan); }

std::optional<PortVlan> PortVlan::make(const VlanConfig& cfg, std::string* error) {
  auto fail = [&](std::string msg) -> std::optional<PortVlan> {
    if (error) *error = std::move(msg);
    return std::nullopt;
  };
  PortVlan v;
  v.members_.reset();
  v.mode_ = cfg.mode;
  if (cfg.mode == VlanMode::kAccess) {
    if (!valid_vid(cfg.access_vlan)) {
      return fail("access VLAN " + std::to_string(cfg.access_vlan) + " is outside 1..4094");
    }
    v.pvid_ = cfg.access_vlan;
    v.members_.set(cfg.access_vlan);
    return v;
  }
  for (uint16_t vid : cfg.trunk) {
    if (!valid_vid(vid)) return fail("trunk VLAN " + std::to_string(vid) + " is outside 1..4094");
    v.members_.set(vid);
  }
  if (cfg.native_vlan != 0) {
    if (!valid_vid(cfg.native_vlan)) {
      return fail("native VLAN " + std::to_string(cfg.native_vlan) + " is outside 1..4094");
    }
    v.members_.set(cfg.native_vlan);
  }
  v.pvid_ = cfg.native_vlan;
  if (v.members_.none()) return fail("a trunk port needs at least one VLAN");
  return v;
}

IngressClass PortVlan::classify(const uint8_t* hdr, uint32_t len) const noexcept {
  IngressClass c;
  if (len < kEthHdrLen) {
    c.verdict = VlanVerdict::kRunt;
    return c;
  }
  if (load_be16(hdr + kEtherTypeOffset) == kEtherTypeVlan) {
    if (len < kVlanHdrLen) {
      c.verdict = VlanVerdict::kRunt;
      return c;
    }
    const uint16_t tci = load_be16(hdr + kEtherTypeOffset + 2);
    const uint16_t vid = tci & 0x0fff;
    c.tci_prio = tci & 0xf000;
    if (vid != 0) {
      c.tag = WireTag::kVid;
      if (mode_ == VlanMode::kAccess) {
        c.verdict = VlanVerdict::kTaggedOnAccess;
      } else if (!member(vid)) {  // also refuses 4095
        c.verdict = VlanVerdict::kNotAllowed;
      } else {
        c.vid = vid;
      }
      return c;
    }
    // VID 0: a priority tag; the frame belongs to the port's VLAN like an untagged one.
    c.tag = WireTag::kPriority;
  }
  if (pvid_ == 0) {
    c.verdict = VlanVerdict::kUntaggedOnTrunk;
  } else {
    c.vid = pvid_;
  }
  return c;
}

std::optional<EgressForm> PortVlan::egress_form(uint16_t vid) const noexcept {
  if (!member(vid)) return std::nullopt;
  if (mode_ == VlanMode::kAccess || vid == pvid_) return EgressForm::kUntagged;
  return EgressForm::kTagged;
}

int make_egress_view(const port::Frame& in, const uint8_t* in_hdr, const IngressClass& cls,
                     EgressForm form, EgressHeader* hdr, iovec* iov, size_t iov_cap,
                     port::Frame* out) noexcept {
  const bool wire_tagged = cls.tag != WireTag::kNone;
  if ((form == EgressForm::kUntagged && !wire_tagged) ||
      (form == EgressForm::kTagged && cls.tag == WireTag::kVid)) {
    *out = in;  // already in the right form: the zero-copy case
    return 0;
  }
  if (iov_cap < 1) return -1;
  // New header: both MACs, then the tag when leaving tagged. The original EtherType (at 12 when
  // untagged, at 16 after a tag) stays in the original segments and follows it.
  constexpr size_t kMacs = 2 * kMacLen;
  std::memcpy(hdr->bytes, in_hdr, kMacs);
  size_t hlen = kMacs;
  if (form == EgressForm::kTagged) {
    store_be16(hdr->bytes + kMacs, kEtherTypeVlan);
    store_be16(hdr->bytes + kMacs + 2, uint16_t(cls.tci_prio | cls.vid));
    hlen += kVlanTagLen;
  }
  const size_t skip = wire_tagged ? kMacs + kVlanTagLen : kMacs;
  size_t n = 0;
  iov[n++] = iovec{hdr->bytes, hlen};
  size_t off = skip;
  for (uint32_t i = 0; i < in.iovcnt; ++i) {
    const size_t seg = in.iov[i].iov_len;
    if (off >= seg) {  // inside the old header (or an empty segment)
      off -= seg;
      continue;
    }
    if (n == iov_cap) return -1;
    iov[n++] = iovec{static_cast<uint8_t*>(in.iov[i].iov_base) + off, seg - off};
    off = 0;
  }
  out->iov = iov;
  out->iovcnt = uint32_t(n);
  out->len = uint32_t(in.len - skip + hlen);
  // Offsets in the metadata count from the first byte, so they move with the tag.
  out->ol = in.ol;
  const int shift = int(hlen) - int(skip);
  if (out->ol.csum_start) out->ol.csum_start = uint16_t(out->ol.csum_start + shift);
  if (out->ol.hdr_len) out->ol.hdr_len = uint16_t(out->ol.hdr_len + shift);
  return int(n);
}

}  // namespace uvs::bridge
