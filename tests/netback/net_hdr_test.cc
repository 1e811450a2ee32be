// SPDX-License-Identifier: MIT
// Unit tests of the virtio-net header validation (TX) and construction (RX), reason by reason.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "netback/common/net_hdr.h"
#include "tests/netback/offload_frames.h"

using namespace uvs::netback;
using uvs::netback::test::offload_frame;
using uvs::netback::test::offload_hdr;
using uvs::netback::test::OffloadFrameSpec;
using uvs::port::Offload;
namespace cap = uvs::port::OffloadCap;
namespace feat = virtio::feature;

namespace {

uint64_t bits(std::initializer_list<uint32_t> l) {
  uint64_t v = 0;
  for (uint32_t b : l) v |= virtio::feature_bit(b);
  return v;
}

const uint64_t kAllHost = bits({feat::kNetCsum, feat::kNetHostTso4, feat::kNetHostTso6,
                                feat::kNetHostEcn, feat::kNetHostUso});

// Parses `h` against `bytes`, split over three segments so header fields straddle them.
BadHdr parse(const virtio::VirtioNetHdrV1& h, const std::vector<uint8_t>& bytes, uint64_t acked,
             Offload* ol) {
  iovec iov[3];
  size_t a = bytes.size() > 20 ? 17 : bytes.size() / 2;
  size_t b = bytes.size() > 60 ? 53 : bytes.size();
  iov[0] = {const_cast<uint8_t*>(bytes.data()), a};
  iov[1] = {const_cast<uint8_t*>(bytes.data()) + a, b - a};
  iov[2] = {const_cast<uint8_t*>(bytes.data()) + b, bytes.size() - b};
  uvs::port::Frame f{iov, 3, static_cast<uint32_t>(bytes.size())};
  return parse_tx_hdr(h, f, NetOffloadFeatures::from_acked(acked), ol);
}

}  // namespace

TEST_CASE("net_hdr: correct headers become Offload metadata") {
  Offload ol;
  SUBCASE("plain") {
    OffloadFrameSpec s;
    CHECK(parse({}, offload_frame(s), 0, &ol) == BadHdr::kNone);
    CHECK(ol.plain());
  }
  SUBCASE("partial checksum only") {
    OffloadFrameSpec s;
    s.payload = 100;
    CHECK(parse(offload_hdr(s, 0), offload_frame(s), kAllHost, &ol) == BadHdr::kNone);
    CHECK(ol.needs_csum());
    CHECK(ol.gso == Offload::Gso::kNone);
    CHECK(ol.csum_start == 34);
    CHECK(ol.csum_offset == 16);
  }
  for (bool v6 : {false, true}) {
    for (uint16_t vlan : {uint16_t{0}, uint16_t{42}}) {
      CAPTURE(v6);
      CAPTURE(vlan);
      OffloadFrameSpec s;
      s.ipv6 = v6;
      s.vlan = vlan;
      s.payload = 60000;
      auto h = offload_hdr(s, 1448);
      h.hdr_len = 500;  // only a hint; the parsed length wins
      h.gso_type |= virtio::kNetHdrGsoEcn;
      REQUIRE(parse(h, offload_frame(s), kAllHost, &ol) == BadHdr::kNone);
      CHECK(ol.gso == (v6 ? Offload::Gso::kTcpV6 : Offload::Gso::kTcpV4));
      CHECK(ol.ecn);
      CHECK(ol.gso_size == 1448);
      CHECK(ol.hdr_len == test::l4_offset(s) + 32);
    }
  }
  SUBCASE("UDP GSO when HOST_USO is acked") {
    OffloadFrameSpec s;
    s.proto = 17;
    s.payload = 9000;
    CHECK(parse(offload_hdr(s, 1400), offload_frame(s), kAllHost, &ol) == BadHdr::kNone);
    CHECK(ol.gso == Offload::Gso::kUdpL4);
    CHECK(ol.hdr_len == 42);
  }
  SUBCASE("flags the device does not know are ignored") {
    OffloadFrameSpec s;
    virtio::VirtioNetHdrV1 h{};
    h.flags = virtio::kNetHdrFDataValid | 0x40;
    CHECK(parse(h, offload_frame(s), 0, &ol) == BadHdr::kNone);
    CHECK(ol.plain());
  }
}

TEST_CASE("net_hdr: every malformed header has its reason") {
  Offload ol;
  OffloadFrameSpec s;
  s.payload = 20000;
  const auto frame = offload_frame(s);
  const auto good = offload_hdr(s, 1448);
  const uint64_t tso4 = bits({feat::kNetCsum, feat::kNetHostTso4});
  auto h = good;
  SUBCASE("checksum without CSUM") {
    CHECK(parse(offload_hdr(s, 0), frame, 0, &ol) == BadHdr::kCsumNotNegotiated);
  }
  SUBCASE("TSO4 without HOST_TSO4") {
    CHECK(parse(good, frame, bits({feat::kNetCsum}), &ol) == BadHdr::kGsoNotNegotiated);
  }
  SUBCASE("HOST_TSO4 acked without CSUM counts as not negotiated") {
    CHECK(parse(good, frame, bits({feat::kNetHostTso4}), &ol) == BadHdr::kCsumNotNegotiated);
  }
  SUBCASE("ECN without HOST_ECN") {
    h.gso_type |= virtio::kNetHdrGsoEcn;
    CHECK(parse(h, frame, tso4, &ol) == BadHdr::kGsoNotNegotiated);
  }
  SUBCASE("UFO is never accepted") {
    h.gso_type = virtio::kNetHdrGsoUdp;
    CHECK(parse(h, frame, ~uint64_t{0}, &ol) == BadHdr::kGsoNotNegotiated);
  }
  SUBCASE("undefined GSO types") {
    for (uint8_t t : {uint8_t{2}, uint8_t{6}, uint8_t{0x7f}, uint8_t{0x80}}) {
      h.gso_type = t;
      CHECK(parse(h, frame, kAllHost, &ol) == BadHdr::kGsoUnknown);
    }
  }
  SUBCASE("GSO without NEEDS_CSUM") {
    h.flags = 0;
    CHECK(parse(h, frame, tso4, &ol) == BadHdr::kGsoWithoutCsum);
  }
  SUBCASE("gso_size 0") {
    h.gso_size = 0;
    CHECK(parse(h, frame, tso4, &ol) == BadHdr::kGsoSize);
  }
  SUBCASE("gso_size larger than the payload") {
    h.gso_size = 20001;
    CHECK(parse(h, frame, tso4, &ol) == BadHdr::kGsoSize);
    h.gso_size = 20000;  // one segment: allowed
    CHECK(parse(h, frame, tso4, &ol) == BadHdr::kNone);
  }
  SUBCASE("hdr_len beyond the frame") {
    h.hdr_len = static_cast<uint16_t>(frame.size() + 1);
    CHECK(parse(h, frame, tso4, &ol) == BadHdr::kHdrLen);
  }
  SUBCASE("checksum field beyond the frame") {
    auto c = offload_hdr(s, 0);
    c.csum_start = static_cast<uint16_t>(frame.size() - 17);
    CHECK(parse(c, frame, tso4, &ol) == BadHdr::kCsumRange);
    c.csum_start = static_cast<uint16_t>(frame.size() - 18);
    CHECK(parse(c, frame, tso4, &ol) == BadHdr::kNone);
    c.csum_start = 0xffff;
    c.csum_offset = 0xffff;
    CHECK(parse(c, frame, tso4, &ol) == BadHdr::kCsumRange);
  }
  SUBCASE("GSO type against the wrong L3/L4") {
    const uint64_t all = kAllHost;
    OffloadFrameSpec v6 = s;
    v6.ipv6 = true;
    CHECK(parse(good, offload_frame(v6), all, &ol) == BadHdr::kGsoMismatch);  // TCPV4 on IPv6
    auto h6 = offload_hdr(v6, 1448);
    CHECK(parse(h6, frame, all, &ol) == BadHdr::kGsoMismatch);  // TCPV6 on IPv4
    OffloadFrameSpec udp = s;
    udp.proto = 17;
    auto hu = good;
    hu.csum_offset = 6;
    CHECK(parse(hu, offload_frame(udp), all, &ol) == BadHdr::kGsoMismatch);  // TCPV4 on UDP
    auto bad_len = frame;
    bad_len[16] ^= 1;  // IPv4 total length
    CHECK(parse(good, bad_len, all, &ol) == BadHdr::kGsoMismatch);
    auto frag = frame;
    frag[20] |= 0x20;  // MF
    CHECK(parse(good, frag, all, &ol) == BadHdr::kGsoMismatch);
    auto arp = frame;
    arp[12] = 0x08;
    arp[13] = 0x06;
    CHECK(parse(good, arp, all, &ol) == BadHdr::kGsoMismatch);
    auto off = good;
    off.csum_start = 30;  // not the TCP header
    CHECK(parse(off, frame, all, &ol) == BadHdr::kGsoMismatch);
  }
  SUBCASE("a frame too short for its headers") {
    std::vector<uint8_t> tiny(frame.begin(), frame.begin() + 40);
    auto t = good;
    t.hdr_len = 0;
    t.csum_start = 20;
    t.csum_offset = 0;
    CHECK(parse(t, tiny, tso4, &ol) == BadHdr::kGsoMismatch);
  }
  CHECK(std::string(bad_hdr_name(BadHdr::kGsoSize)) == "gso-size");
}

TEST_CASE("net_hdr: guest capabilities follow the acked GUEST_* features") {
  CHECK(NetOffloadFeatures::from_acked(0).guest_caps == 0);
  auto f = NetOffloadFeatures::from_acked(
      bits({feat::kNetGuestCsum, feat::kNetGuestTso4, feat::kNetGuestTso6, feat::kNetGuestEcn}));
  CHECK(f.guest_caps == (cap::kCsum | cap::kTso4 | cap::kTso6 | cap::kTsoEcn));
  CHECK_FALSE(f.host_csum);
  // TSO without GUEST_CSUM is not a valid combination (§5.1.3.1): nothing offloaded.
  CHECK(NetOffloadFeatures::from_acked(bits({feat::kNetGuestTso4})).guest_caps == 0);
  CHECK(NetOffloadFeatures::from_acked(bits({feat::kNetGuestCsum, feat::kNetGuestEcn})).guest_caps ==
        cap::kCsum);
}

TEST_CASE("net_hdr: RX header from the metadata") {
  virtio::VirtioNetHdrV1 h;
  Offload ol;
  REQUIRE(make_rx_hdr(ol, 0, &h));
  CHECK(h.flags == 0);
  CHECK(h.gso_type == 0);
  CHECK(h.num_buffers == 1);

  ol.flags = Offload::kNeedsCsum;
  ol.csum_start = 34;
  ol.csum_offset = 16;
  CHECK_FALSE(make_rx_hdr(ol, 0, &h));
  REQUIRE(make_rx_hdr(ol, cap::kCsum, &h));
  CHECK(h.flags == virtio::kNetHdrFNeedsCsum);
  CHECK(h.csum_start == 34);

  ol.gso = Offload::Gso::kTcpV6;
  ol.gso_size = 1428;
  ol.hdr_len = 86;
  CHECK_FALSE(make_rx_hdr(ol, cap::kCsum | cap::kTso4, &h));
  REQUIRE(make_rx_hdr(ol, cap::kCsum | cap::kTso6, &h));
  CHECK(h.gso_type == virtio::kNetHdrGsoTcpV6);
  CHECK(h.gso_size == 1428);
  CHECK(h.hdr_len == 86);
  ol.ecn = true;
  CHECK_FALSE(make_rx_hdr(ol, cap::kCsum | cap::kTso6, &h));
  REQUIRE(make_rx_hdr(ol, cap::kCsum | cap::kTso6 | cap::kTsoEcn, &h));
  CHECK(h.gso_type == (virtio::kNetHdrGsoTcpV6 | virtio::kNetHdrGsoEcn));

  Offload valid;
  valid.flags = Offload::kDataValid;
  REQUIRE(make_rx_hdr(valid, 0, &h));
  CHECK(h.flags == 0);  // the hint is dropped, the frame is still right
  REQUIRE(make_rx_hdr(valid, cap::kCsum, &h));
  CHECK(h.flags == virtio::kNetHdrFDataValid);
}
