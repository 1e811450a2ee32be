// SPDX-License-Identifier: MIT
// VLAN unit tests: config validation, every ingress rule, egress forms and rewritten tag bytes.
#include "switch/vlan.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "tests/switch/frame_builder.h"

namespace uvs::bridge {
namespace {

using test::Bytes;
using test::make_frame;
using test::mac;

PortVlan access(uint16_t vid) {
  VlanConfig c;
  c.access_vlan = vid;
  return *PortVlan::make(c);
}

PortVlan trunk(std::vector<uint16_t> vids, uint16_t native = 0) {
  VlanConfig c;
  c.mode = VlanMode::kTrunk;
  c.trunk = std::move(vids);
  c.native_vlan = native;
  return *PortVlan::make(c);
}

IngressClass classify(const PortVlan& v, const Bytes& f) {
  uint8_t hdr[kVlanHdrLen] = {};
  std::copy_n(f.begin(), std::min(f.size(), kVlanHdrLen), hdr);
  return v.classify(hdr, uint32_t(f.size()));
}

/// Runs make_egress_view over `f` split into `seg`-byte segments; returns the view's bytes.
Bytes egress(const PortVlan& in_port, const Bytes& f, EgressForm form, size_t seg,
             int* used_iov = nullptr, bool* same = nullptr) {
  std::vector<iovec> in_iov;
  for (size_t off = 0; off < f.size(); off += seg) {
    in_iov.push_back(iovec{const_cast<uint8_t*>(f.data()) + off, std::min(seg, f.size() - off)});
  }
  port::Frame in{in_iov.data(), uint32_t(in_iov.size()), uint32_t(f.size())};
  uint8_t hdr[kVlanHdrLen] = {};
  std::copy_n(f.begin(), std::min(f.size(), kVlanHdrLen), hdr);
  const IngressClass cls = in_port.classify(hdr, in.len);
  REQUIRE(cls.verdict == VlanVerdict::kAccept);
  EgressHeader eh;
  iovec iov[256];
  port::Frame out;
  const int n = make_egress_view(in, hdr, cls, form, &eh, iov, 256, &out);
  REQUIRE(n >= 0);
  if (used_iov) *used_iov = n;
  if (same) *same = out.iov == in.iov;
  Bytes b(out.len);
  REQUIRE(out.copy_out(0, b.data(), b.size()) == out.len);
  return b;
}

TEST_CASE("vlan: config validation") {
  std::string err;
  VlanConfig c;
  CHECK(PortVlan::make(c));  // default: access VLAN 1
  c.access_vlan = 0;
  CHECK_FALSE(PortVlan::make(c, &err));
  CHECK(err.find("outside 1..4094") != std::string::npos);
  c.access_vlan = 4095;
  CHECK_FALSE(PortVlan::make(c));
  c.access_vlan = 4094;
  CHECK(PortVlan::make(c));
  c.mode = VlanMode::kTrunk;
  CHECK_FALSE(PortVlan::make(c, &err));  // no VLANs at all
  CHECK(err.find("at least one") != std::string::npos);
  c.trunk = {10, 0};
  CHECK_FALSE(PortVlan::make(c));
  c.trunk = {10, 4095};
  CHECK_FALSE(PortVlan::make(c));
  c.trunk = {10, 20, 10};
  CHECK(PortVlan::make(c));
  c.native_vlan = 4095;
  CHECK_FALSE(PortVlan::make(c));
  c.trunk.clear();
  c.native_vlan = 7;
  CHECK(PortVlan::make(c));  // native only
}

TEST_CASE("vlan: default port is an access port of VLAN 1") {
  PortVlan v;
  CHECK(v.mode() == VlanMode::kAccess);
  CHECK(v.pvid() == 1);
  CHECK(v.member(1));
  CHECK_FALSE(v.member(2));
}

TEST_CASE("vlan: ingress on an access port") {
  const PortVlan v = access(10);
  const Bytes untagged = make_frame(mac(2), mac(1), 46);
  IngressClass c = classify(v, untagged);
  CHECK(c.verdict == VlanVerdict::kAccept);
  CHECK(c.vid == 10);
  CHECK(c.tag == WireTag::kNone);

  c = classify(v, make_frame(mac(2), mac(1), 46, 0, 10));  // tagged, even with its own VID
  CHECK(c.verdict == VlanVerdict::kTaggedOnAccess);
  c = classify(v, make_frame(mac(2), mac(1), 46, 0, 20));
  CHECK(c.verdict == VlanVerdict::kTaggedOnAccess);

  c = classify(v, make_frame(mac(2), mac(1), 46, 0, 0xa000));  // priority tag: PCP 5, VID 0
  CHECK(c.verdict == VlanVerdict::kAccept);
  CHECK(c.vid == 10);
  CHECK(c.tag == WireTag::kPriority);
  CHECK(c.tci_prio == 0xa000);

  Bytes runt(13, 0);
  CHECK(classify(v, runt).verdict == VlanVerdict::kRunt);
  Bytes tagged_runt = make_frame(mac(2), mac(1), 0, 0, 0);  // 18 bytes: ok
  CHECK(classify(v, tagged_runt).verdict == VlanVerdict::kAccept);
  tagged_runt.resize(17);
  CHECK(classify(v, tagged_runt).verdict == VlanVerdict::kRunt);
  Bytes hdr_only = make_frame(mac(2), mac(1), 0);  // 14 bytes untagged: ok
  CHECK(classify(v, hdr_only).verdict == VlanVerdict::kAccept);
}

TEST_CASE("vlan: ingress on a trunk port") {
  const PortVlan v = trunk({10, 20});
  IngressClass c = classify(v, make_frame(mac(2), mac(1), 46, 0, 0x2000 | 20));
  CHECK(c.verdict == VlanVerdict::kAccept);
  CHECK(c.vid == 20);
  CHECK(c.tag == WireTag::kVid);
  CHECK(c.tci_prio == 0x2000);
  CHECK(classify(v, make_frame(mac(2), mac(1), 46, 0, 30)).verdict == VlanVerdict::kNotAllowed);
  CHECK(classify(v, make_frame(mac(2), mac(1), 46, 0, 4095)).verdict == VlanVerdict::kNotAllowed);
  CHECK(classify(v, make_frame(mac(2), mac(1), 46)).verdict == VlanVerdict::kUntaggedOnTrunk);
  CHECK(classify(v, make_frame(mac(2), mac(1), 46, 0, 0x6000)).verdict ==
        VlanVerdict::kUntaggedOnTrunk);  // priority-tagged counts as untagged
  // A QinQ S-tag (0x88a8) is not a C-tag: the frame is untagged as far as 802.1Q C-VLANs go.
  CHECK(classify(v, make_frame(mac(2), mac(1), 46, 0, -1, 0x88a8)).verdict ==
        VlanVerdict::kUntaggedOnTrunk);

  const PortVlan n = trunk({10, 20}, 99);
  c = classify(n, make_frame(mac(2), mac(1), 46));
  CHECK(c.verdict == VlanVerdict::kAccept);
  CHECK(c.vid == 99);
  c = classify(n, make_frame(mac(2), mac(1), 46, 0, 99));  // native also accepted tagged
  CHECK(c.verdict == VlanVerdict::kAccept);
  CHECK(c.vid == 99);
  c = classify(n, make_frame(mac(2), mac(1), 46, 0, 10));
  CHECK(c.vid == 10);
}

TEST_CASE("vlan: egress form by port mode") {
  const PortVlan a = access(10);
  CHECK(a.egress_form(10) == EgressForm::kUntagged);
  CHECK_FALSE(a.egress_form(20));
  const PortVlan t = trunk({10, 20}, 99);
  CHECK(t.egress_form(10) == EgressForm::kTagged);
  CHECK(t.egress_form(20) == EgressForm::kTagged);
  CHECK(t.egress_form(99) == EgressForm::kUntagged);  // native leaves untagged
  CHECK_FALSE(t.egress_form(30));
  CHECK_FALSE(t.egress_form(0));
  CHECK_FALSE(t.egress_form(4095));
}

TEST_CASE("vlan: egress views keep, add, strip and rewrite tags byte-exactly") {
  const PortVlan acc = access(10);
  const PortVlan trk = trunk({10, 20});
  const PortVlan nat = trunk({20}, 10);
  // Segment sizes that split the header in every interesting place (inside a MAC, at 12, inside
  // the tag, at 16, after the header) and a single segment.
  for (size_t seg : {size_t(1), size_t(5), size_t(12), size_t(13), size_t(16), size_t(17),
                     size_t(2000)}) {
    CAPTURE(seg);
    const Bytes untagged = make_frame(mac(2), mac(1), 100, 7);
    const Bytes tagged = make_frame(mac(2), mac(1), 100, 7, 0xa000 | 10);  // PCP 5, VID 10
    const Bytes prio = make_frame(mac(2), mac(1), 100, 7, 0x6000);         // PCP 3, VID 0

    int used = -1;
    bool same = false;
    SUBCASE("untagged stays untagged: the original frame") {
      CHECK(egress(acc, untagged, EgressForm::kUntagged, seg, &used, &same) == untagged);
      CHECK(used == 0);
      CHECK(same);
    }
    SUBCASE("untagged leaves a trunk tagged with the VLAN, PCP 0") {
      const Bytes out = egress(acc, untagged, EgressForm::kTagged, seg, &used);
      CHECK(out == test::add_tag(untagged, 10));
      CHECK(out.size() == untagged.size() + 4);
      CHECK(out[12] == 0x81);
      CHECK(out[13] == 0x00);
      CHECK(out[14] == 0x00);
      CHECK(out[15] == 10);
      CHECK(out[16] == 0x08);  // original EtherType follows the tag
      CHECK(used >= 2);
    }
    SUBCASE("tagged stays tagged: the original frame, PCP kept") {
      CHECK(egress(trk, tagged, EgressForm::kTagged, seg, &used, &same) == tagged);
      CHECK(used == 0);
      CHECK(same);
    }
    SUBCASE("tagged leaves an access port untagged") {
      const Bytes out = egress(trk, tagged, EgressForm::kUntagged, seg);
      CHECK(out == untagged);
      CHECK(out.size() == tagged.size() - 4);
    }
    SUBCASE("tagged native VLAN leaves its trunk untagged") {
      CHECK(egress(nat, tagged, EgressForm::kUntagged, seg) == untagged);
    }
    SUBCASE("priority tag rewritten with the VLAN, PCP kept") {
      const Bytes out = egress(acc, prio, EgressForm::kTagged, seg);
      CHECK(out == test::add_tag(untagged, 0x6000 | 10));
    }
    SUBCASE("priority tag stripped toward an access port") {
      CHECK(egress(acc, prio, EgressForm::kUntagged, seg) == untagged);
    }
  }
}

TEST_CASE("vlan: egress view on a header-only frame and with too little iovec room") {
  const PortVlan acc = access(10);
  const Bytes hdr_only = make_frame(mac(2), mac(1), 0);  // 14 bytes
  CHECK(egress(acc, hdr_only, EgressForm::kTagged, 3) == test::add_tag(hdr_only, 10));
  const Bytes tagged_hdr = make_frame(mac(2), mac(1), 0, 0, 10);  // 18 bytes
  const PortVlan trk = trunk({10});
  CHECK(egress(trk, tagged_hdr, EgressForm::kUntagged, 18) == hdr_only);

  const Bytes f = make_frame(mac(2), mac(1), 100);
  std::vector<iovec> in_iov;
  for (size_t off = 0; off < f.size(); off += 10) {
    in_iov.push_back(iovec{const_cast<uint8_t*>(f.data()) + off, std::min<size_t>(10, f.size() - off)});
  }
  port::Frame in{in_iov.data(), uint32_t(in_iov.size()), uint32_t(f.size())};
  const IngressClass cls = acc.classify(f.data(), in.len);
  EgressHeader eh;
  iovec iov[4];
  port::Frame out;
  CHECK(make_egress_view(in, f.data(), cls, EgressForm::kTagged, &eh, iov, 4, &out) == -1);
  CHECK(make_egress_view(in, f.data(), cls, EgressForm::kTagged, &eh, iov, 0, &out) == -1);
}

TEST_CASE("vlan: offload offsets move with the tag the view adds or removes") {
  const Bytes f = make_frame(mac(2), mac(1), 100);
  iovec in_iov{const_cast<uint8_t*>(f.data()), f.size()};
  port::Frame in{&in_iov, 1, uint32_t(f.size())};
  in.ol.flags = port::Offload::kNeedsCsum;
  in.ol.gso = port::Offload::Gso::kTcpV4;
  in.ol.gso_size = 1448;
  in.ol.hdr_len = 54;
  in.ol.csum_start = 34;
  in.ol.csum_offset = 16;
  const PortVlan acc = access(10);
  const IngressClass cls = acc.classify(f.data(), in.len);
  EgressHeader eh;
  iovec iov[4];
  port::Frame tagged;
  REQUIRE(make_egress_view(in, f.data(), cls, EgressForm::kTagged, &eh, iov, 4, &tagged) > 0);
  CHECK(tagged.ol.csum_start == 38);
  CHECK(tagged.ol.hdr_len == 58);
  CHECK(tagged.ol.csum_offset == 16);
  CHECK(tagged.ol.gso_size == 1448);
  CHECK(tagged.ol.gso == port::Offload::Gso::kTcpV4);

  // And back: the tagged frame leaving untagged loses 4 bytes of offset.
  Bytes tf(tagged.len);
  tagged.copy_out(0, tf.data(), tf.size());
  iovec t_iov{tf.data(), tf.size()};
  port::Frame tin{&t_iov, 1, uint32_t(tf.size())};
  tin.ol = tagged.ol;
  const PortVlan trk = trunk({10});
  const IngressClass tcls = trk.classify(tf.data(), tin.len);
  port::Frame untagged;
  REQUIRE(make_egress_view(tin, tf.data(), tcls, EgressForm::kUntagged, &eh, iov, 4, &untagged) >
          0);
  CHECK(untagged.ol.csum_start == 34);
  CHECK(untagged.ol.hdr_len == 54);
}

}  // namespace
}  // namespace uvs::bridge
