// SPDX-License-Identifier: MIT
// libFuzzer target: VLAN membership, ingress classification and egress tag rewriting.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "switch/vlan.h"
#include "tests/fuzz/fuzz_reader.h"

using uvs::fuzz::FuzzReader;
using namespace uvs::bridge;
using uvs::port::Frame;

namespace {

[[noreturn]] void fail() { __builtin_trap(); }

// A port's VLAN settings from the input: mode, a VID that is the access or native VLAN (any
// 16-bit value, so invalid ones reach make()), and up to 7 trunk VIDs.
VlanConfig read_config(FuzzReader& r) {
  VlanConfig c;
  uint8_t b = r.u8();
  c.mode = (b & 1) ? VlanMode::kTrunk : VlanMode::kAccess;
  uint16_t vid = r.u16();
  if (c.mode == VlanMode::kAccess) {
    c.access_vlan = vid;
  } else {
    c.native_vlan = (b & 2) ? vid : 0;
  }
  for (int i = 0, k = (b >> 2) & 7; i < k; ++i) c.trunk.push_back(r.u16());
  return c;
}

std::vector<uint8_t> linearize(const Frame& f) {
  std::vector<uint8_t> out(f.len);
  if (f.copy_out(0, out.data(), f.len) != f.len) fail();
  return out;
}

}  // namespace

// Input: ingress port config, egress port config, one byte of segment sizes (up to 3 cuts of
// 0..15 bytes each, so headers straddle segments), u16 csum_start and hdr_len of the frame's
// offload metadata, then the frame.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzReader r{data, size};
  const VlanConfig in_cfg = read_config(r);
  const VlanConfig out_cfg = read_config(r);
  const uint8_t cuts = r.u8();
  uvs::port::Offload ol;
  ol.csum_start = r.u16();
  ol.hdr_len = r.u16();
  if (ol.csum_start || ol.hdr_len) ol.flags = uvs::port::Offload::kNeedsCsum;
  std::vector<uint8_t> bytes(r.p, r.p + r.n);

  std::optional<PortVlan> in_port = PortVlan::make(in_cfg);
  std::optional<PortVlan> out_port = PortVlan::make(out_cfg);
  if (!in_port || !out_port) return 0;

  // The frame as scattered segments, the way a guest's descriptor chain lends it.
  iovec segs[4];
  uint32_t nseg = 0;
  size_t off = 0;
  for (int i = 0; i < 3; ++i) {
    size_t len = std::min<size_t>((cuts >> (2 * i)) & 3 ? ((cuts >> (2 * i)) & 3) * 5 : 0,
                                  bytes.size() - off);
    if (len == 0) continue;
    segs[nseg++] = iovec{bytes.data() + off, len};
    off += len;
  }
  if (off < bytes.size()) segs[nseg++] = iovec{bytes.data() + off, bytes.size() - off};
  const Frame frame{segs, nseg, uint32_t(bytes.size()), ol};

  uint8_t hdr[kEthHdrLen + kVlanTagLen] = {};
  const uint32_t hlen = uint32_t(std::min(bytes.size(), sizeof hdr));
  frame.copy_out(0, hdr, hlen);
  const IngressClass cls = in_port->classify(hdr, frame.len);
  if (cls.verdict != VlanVerdict::kAccept) {
    if (cls.verdict == VlanVerdict::kRunt && frame.len >= kEthHdrLen + kVlanTagLen) fail();
    return 0;
  }
  if (cls.vid < 1 || cls.vid > kMaxVid || !in_port->member(cls.vid)) fail();

  const std::optional<EgressForm> form = out_port->egress_form(cls.vid);
  if (!form) {
    if (out_port->member(cls.vid)) fail();
    return 0;
  }
  EgressHeader eh;
  iovec iov[8];
  Frame out;
  const int n = make_egress_view(frame, hdr, cls, *form, &eh, iov, 8, &out);
  if (n < 0) fail();
  size_t total = 0;
  for (uint32_t i = 0; i < out.iovcnt; ++i) total += out.iov[i].iov_len;
  if (total != out.len) fail();

  // What leaves the egress port must classify, on that port, into the same VLAN, keep both MACs,
  // the priority bits of a tag it carries, and every byte from the EtherType on.
  const std::vector<uint8_t> wire = linearize(out);
  const bool tagged = *form == EgressForm::kTagged;
  if (wire.size() < kEthHdrLen || std::memcmp(wire.data(), bytes.data(), 12) != 0) fail();
  const size_t in_skip = cls.tag != WireTag::kNone ? 16 : 12;
  // A stacked tag under the one removed is payload that now looks like a tag: 802.1Q does not
  // look inside, and neither does the switch, so only the bytes are checked then.
  const bool stacked = bytes.size() >= in_skip + 2 && load_be16(&bytes[in_skip]) == kEtherTypeVlan;
  if (!stacked) {
    if (tagged != (load_be16(wire.data() + 12) == kEtherTypeVlan)) fail();
    const IngressClass back = out_port->classify(wire.data(), uint32_t(wire.size()));
    if (back.verdict != VlanVerdict::kAccept || back.vid != cls.vid) fail();
    if (tagged && cls.tag != WireTag::kNone && back.tci_prio != cls.tci_prio) fail();
  }
  const size_t out_skip = tagged ? 16 : 12;
  // Offload offsets that point past the rewritten header, inside the frame, still point at the
  // same byte. (Offsets beyond the frame are the ingress validation's to refuse.)
  if (ol.csum_start >= in_skip && ol.csum_start < bytes.size()) {
    const size_t moved = ol.csum_start - in_skip + out_skip;
    if (out.ol.csum_start != moved) fail();
    if (moved < wire.size() && wire[moved] != bytes[ol.csum_start]) fail();
  }
  if (ol.hdr_len >= in_skip && ol.hdr_len <= bytes.size() &&
      out.ol.hdr_len != ol.hdr_len - in_skip + out_skip) fail();
  if (wire.size() - out_skip != bytes.size() - in_skip ||
      std::memcmp(wire.data() + out_skip, bytes.data() + in_skip, bytes.size() - in_skip) != 0) {
    fail();
  }
  return 0;
}
