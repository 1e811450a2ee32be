// SPDX-License-Identifier: MIT
// Offload fallback unit tests: checksum accumulator, header parsing and every rejection, TCP/UDP
// segmentation over IPv4/IPv6 (tagged or not), checksum completion.
#include "switch/offload_fallback.h"

#include <doctest/doctest.h>

#include <vector>

#include "port/inet_csum.h"
#include "tests/switch/bridge_rig.h"
#include "tests/switch/frame_builder.h"

namespace uvs::bridge {
namespace {

using port::Offload;
using port::OffloadError;
using test::Bytes;

// Straightforward RFC 1071 sum, byte pair by byte pair: the reference for CsumAcc.
uint32_t ref_sum(const Bytes& b, size_t from, size_t to, uint32_t sum = 0) {
  for (size_t i = from; i < to; i += 2) {
    sum += uint32_t(b[i]) << 8 | (i + 1 < to ? b[i + 1] : 0);
  }
  return sum;
}
uint16_t ref_fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}
uint16_t rd16(const Bytes& b, size_t o) { return uint16_t(b[o] << 8 | b[o + 1]); }
uint32_t rd32(const Bytes& b, size_t o) { return uint32_t(rd16(b, o)) << 16 | rd16(b, o + 2); }
void wr16(Bytes& b, size_t o, uint16_t v) {
  b[o] = uint8_t(v >> 8);
  b[o + 1] = uint8_t(v);
}

struct Pkt {
  Bytes b;
  size_t l3 = 0, l4 = 0, hdr = 0;
  bool v6 = false;
  uint8_t proto = 6;
};

// Ethernet [+ tag] + IPv4/IPv6 + TCP (with 12 bytes of options) or UDP + payload, with the L4
// checksum field holding the pseudo-header sum (what a NEEDS_CSUM sender leaves there).
Pkt build(bool v6, uint8_t proto, size_t payload, bool tagged, uint8_t tcp_flags = 0x18) {
  Pkt p;
  p.v6 = v6;
  p.proto = proto;
  Bytes& b = p.b;
  for (int i = 0; i < 12; ++i) b.push_back(uint8_t(i + 1));
  if (tagged) b.insert(b.end(), {0x81, 0x00, 0x00, 0x0a});
  b.insert(b.end(), {uint8_t(v6 ? 0x86 : 0x08), uint8_t(v6 ? 0xdd : 0x00)});
  p.l3 = b.size();
  const size_t l4len = proto == 6 ? 32 : 8;
  if (v6) {
    b.insert(b.end(), {0x60, 0, 0, 0});
    b.push_back(uint8_t((l4len + payload) >> 8));
    b.push_back(uint8_t(l4len + payload));
    b.insert(b.end(), {proto, 64});
    for (int i = 0; i < 32; ++i) b.push_back(uint8_t(0xfd + i));
  } else {
    const size_t tot = 20 + l4len + payload;
    b.insert(b.end(), {0x45, 0, uint8_t(tot >> 8), uint8_t(tot), 0x12, 0x34, 0x40, 0, 64, proto,
                       0, 0, 10, 0, 0, 1, 10, 0, 0, 2});
    wr16(b, p.l3 + 10, uint16_t(~ref_fold(ref_sum(b, p.l3, p.l3 + 20))));
  }
  p.l4 = b.size();
  if (proto == 6) {
    b.insert(b.end(), {0x30, 0x39, 0x00, 0x50, 0xff, 0xff, 0xff, 0x00, 0, 0, 0, 1,
                       0x80, tcp_flags, 0x10, 0x00, 0, 0, 0, 0});
    for (int i = 0; i < 12; ++i) b.push_back(1);  // NOP options
  } else {
    b.insert(b.end(), {0x30, 0x39, 0x00, 0x35, uint8_t((8 + payload) >> 8), uint8_t(8 + payload), 0, 0});
  }
  p.hdr = b.size();
  for (size_t i = 0; i < payload; ++i) b.push_back(uint8_t(i * 13 + 7));
  return p;
}

// Verifies the L4 checksum of a complete segment `b` laid out like `p`.
bool l4_ok(const Pkt& p, const Bytes& b) {
  const size_t l4_len = b.size() - p.l4;
  uint32_t s = p.v6 ? ref_sum(b, p.l3 + 8, p.l3 + 40) : ref_sum(b, p.l3 + 12, p.l3 + 20);
  s += p.proto + uint32_t(l4_len);
  s = ref_sum(b, p.l4, b.size(), s);
  return ref_fold(s) == 0xffff;
}
bool ip_ok(const Pkt& p, const Bytes& b) {
  return p.v6 || ref_fold(ref_sum(b, p.l3, p.l3 + 20)) == 0xffff;
}

Bytes bytes_of(const port::Frame& f) {
  Bytes b(f.len);
  b.resize(f.copy_out(0, b.data(), b.size()));
  return b;
}

// Splits `b` into `seg`-byte iovecs (scattered input like a guest's chain or ring slots).
port::Frame frame_of(const Bytes& b, std::vector<iovec>& iov, size_t seg) {
  iov.clear();
  for (size_t o = 0; o < b.size(); o += seg) {
    iov.push_back(iovec{const_cast<uint8_t*>(b.data()) + o, std::min(seg, b.size() - o)});
  }
  return port::Frame{iov.data(), uint32_t(iov.size()), uint32_t(b.size())};
}

Offload gso_of(const Pkt& p, uint16_t mss) {
  Offload ol;
  ol.flags = Offload::kNeedsCsum;
  ol.gso = p.proto == 17 ? Offload::Gso::kUdpL4 : p.v6 ? Offload::Gso::kTcpV6 : Offload::Gso::kTcpV4;
  ol.gso_size = mss;
  ol.hdr_len = uint16_t(p.hdr);
  ol.csum_start = uint16_t(p.l4);
  ol.csum_offset = p.proto == 6 ? 16 : 6;
  return ol;
}

std::vector<Bytes> run(OffloadFallback& fb, const port::Frame& f, uint32_t caps,
                       std::vector<Offload>* ols = nullptr) {
  std::vector<Bytes> out;
  REQUIRE(fb.start(f, caps) == OffloadError::kNone);
  for (auto s = fb.next(); !s.empty(); s = fb.next()) {
    for (const port::Frame& o : s) {
      out.push_back(bytes_of(o));
      if (ols) ols->push_back(o.ol);
    }
  }
  return out;
}

TEST_CASE("inet csum: matches the reference over any split and alignment") {
  Bytes b(3001);
  for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(i * 31 + (i >> 3));
  const uint16_t want = ref_fold(ref_sum(b, 0, b.size()));
  for (size_t cut1 : {0, 1, 2, 3, 7, 8, 9, 1500}) {
    for (size_t cut2 : {size_t(0), size_t(1), size_t(5), size_t(13)}) {
      const size_t c2 = std::min(b.size(), cut1 + cut2);
      port::CsumAcc acc;
      acc.add(b.data(), cut1);
      acc.add(b.data() + cut1, c2 - cut1);
      acc.add(b.data() + c2, b.size() - c2);
      CHECK(acc.sum16() == want);
    }
  }
  port::CsumAcc acc;
  acc.add_u16(0x1234);
  acc.add_u32(0x0001ffff);
  CHECK(acc.sum16() == ref_fold(0x1234 + 0x0001 + 0xffff));
}

TEST_CASE("offload fits: caps and needs") {
  namespace cap = port::OffloadCap;
  Offload ol;
  CHECK(offload_fits(ol, 0));
  ol.flags = Offload::kDataValid;
  CHECK(offload_fits(ol, 0));
  ol.flags = Offload::kNeedsCsum;
  CHECK_FALSE(offload_fits(ol, 0));
  CHECK(offload_fits(ol, cap::kCsum));
  ol.gso = Offload::Gso::kTcpV4;
  CHECK_FALSE(offload_fits(ol, cap::kCsum | cap::kTso6));
  CHECK(offload_fits(ol, cap::kCsum | cap::kTso4));
  ol.ecn = true;
  CHECK_FALSE(offload_fits(ol, cap::kCsum | cap::kTso4));
  CHECK(offload_fits(ol, cap::kCsum | cap::kTso4 | cap::kTsoEcn));
  ol.gso = Offload::Gso::kUdpL4;
  ol.ecn = false;
  CHECK_FALSE(offload_fits(ol, cap::kCsum | cap::kTso4 | cap::kTso6));
  CHECK(offload_fits(ol, cap::kCsum | cap::kUso));
}

TEST_CASE("segmentation: TCP over IPv4 and IPv6, tagged or not, any scatter") {
  OffloadFallback fb;
  for (bool v6 : {false, true}) {
    for (bool tagged : {false, true}) {
      for (size_t scatter : {size_t(70000), size_t(1000), size_t(7)}) {
        CAPTURE(v6);
        CAPTURE(tagged);
        CAPTURE(scatter);
        const uint8_t flags = 0x80 | 0x08 | 0x01 | 0x10;  // CWR PSH FIN ACK
        Pkt p = build(v6, 6, 10000, tagged, flags);
        std::vector<iovec> iov;
        port::Frame f = frame_of(p.b, iov, scatter);
        f.ol = gso_of(p, 1448);
        f.ol.ecn = true;
        const std::vector<Bytes> segs = run(fb, f, 0);
        REQUIRE(segs.size() == 7);  // ceil(10000 / 1448)
        Bytes payload;
        for (size_t k = 0; k < segs.size(); ++k) {
          const Bytes& s = segs[k];
          const size_t want = k + 1 < segs.size() ? 1448 : 10000 - 6 * 1448;
          REQUIRE(s.size() == p.hdr + want);
          CHECK(std::equal(s.begin(), s.begin() + 12, p.b.begin()));  // MACs kept
          CHECK(ip_ok(p, s));
          CHECK(l4_ok(p, s));
          if (v6) {
            CHECK(rd16(s, p.l3 + 4) == s.size() - p.l3 - 40);
          } else {
            CHECK(rd16(s, p.l3 + 2) == s.size() - p.l3);
            CHECK(rd16(s, p.l3 + 4) == 0x1234 + k);
          }
          CHECK(rd32(s, p.l4 + 4) == 0xffffff00u + uint32_t(k * 1448));  // wraps around 2^32
          const uint8_t fl = s[p.l4 + 13];
          CHECK(bool(fl & 0x01) == (k + 1 == segs.size()));  // FIN last only
          CHECK(bool(fl & 0x08) == (k + 1 == segs.size()));  // PSH last only
          CHECK(bool(fl & 0x80) == (k == 0));                // CWR first only
          CHECK((fl & 0x10) != 0);                           // ACK everywhere
          payload.insert(payload.end(), s.begin() + long(p.hdr), s.end());
        }
        CHECK(payload == Bytes(p.b.begin() + long(p.hdr), p.b.end()));
      }
    }
  }
}

TEST_CASE("segmentation: UDP (USO) over IPv4 and IPv6") {
  OffloadFallback fb;
  for (bool v6 : {false, true}) {
    Pkt p = build(v6, 17, 4000, false);
    std::vector<iovec> iov;
    port::Frame f = frame_of(p.b, iov, 999);
    f.ol = gso_of(p, 1400);
    const std::vector<Bytes> segs = run(fb, f, port::OffloadCap::kTso4 | port::OffloadCap::kTso6);
    REQUIRE(segs.size() == 3);
    for (const Bytes& s : segs) {
      CHECK(rd16(s, p.l4 + 4) == s.size() - p.l4);
      CHECK(ip_ok(p, s));
      CHECK(l4_ok(p, s));
      CHECK(rd16(s, p.l4 + 6) != 0);  // never "no checksum"
    }
    CHECK(segs[2].size() == p.hdr + 1200);
  }
}

TEST_CASE("segmentation for a port with kCsum leaves each segment's checksum partial") {
  OffloadFallback fb;
  Pkt p = build(false, 6, 3000, false);
  std::vector<iovec> iov;
  port::Frame f = frame_of(p.b, iov, 512);
  f.ol = gso_of(p, 1000);
  std::vector<Offload> ols;
  const std::vector<Bytes> segs = run(fb, f, port::OffloadCap::kCsum, &ols);
  REQUIRE(segs.size() == 3);
  for (size_t k = 0; k < segs.size(); ++k) {
    CHECK(ols[k].needs_csum());
    CHECK(ols[k].csum_start == p.l4);
    CHECK(ols[k].csum_offset == 16);
    CHECK(ols[k].gso == Offload::Gso::kNone);
    // Completing it the way a receiver would gives a valid checksum.
    Bytes s = segs[k];
    port::CsumAcc acc;
    acc.add(s.data() + p.l4, s.size() - p.l4);
    wr16(s, p.l4 + 16, acc.finish());
    CHECK(l4_ok(p, s));
  }
}

TEST_CASE("checksum completion: a plain frame with a partial checksum, and a whole GSO frame") {
  OffloadFallback fb;
  for (size_t scatter : {size_t(5), size_t(100), size_t(4000)}) {
    Pkt p = build(false, 17, 301, true);
    // The field holds the pseudo-header sum, as a NEEDS_CSUM sender leaves it.
    uint32_t ps = ref_sum(p.b, p.l3 + 12, p.l3 + 20) + 17 + uint32_t(p.b.size() - p.l4);
    wr16(p.b, p.l4 + 6, ref_fold(ps));
    std::vector<iovec> iov;
    port::Frame f = frame_of(p.b, iov, scatter);
    f.ol.flags = Offload::kNeedsCsum;
    f.ol.csum_start = uint16_t(p.l4);
    f.ol.csum_offset = 6;
    std::vector<Offload> ols;
    const std::vector<Bytes> out = run(fb, f, 0, &ols);
    CHECK_FALSE(fb.segmenting());
    REQUIRE(out.size() == 1);
    CHECK(out[0].size() == p.b.size());
    CHECK(l4_ok(p, out[0]));
    CHECK(ols[0].plain());
  }
  // A port with the TSO cap but no kCsum (the NAT) gets the superframe whole, checksummed.
  Pkt p = build(false, 6, 20000, false);
  wr16(p.b, p.l3 + 10, 0xdead);  // a GSO sender's IPv4 checksum is not trusted either
  std::vector<iovec> iov;
  port::Frame f = frame_of(p.b, iov, 3000);
  f.ol = gso_of(p, 1448);
  std::vector<Offload> ols;
  const std::vector<Bytes> out = run(fb, f, port::OffloadCap::kTso4, &ols);
  REQUIRE(out.size() == 1);
  CHECK(out[0].size() == p.b.size());
  CHECK(ip_ok(p, out[0]));
  CHECK(l4_ok(p, out[0]));
  CHECK(ols[0].gso == Offload::Gso::kTcpV4);
  CHECK_FALSE(ols[0].needs_csum());
}

TEST_CASE("inconsistent metadata is refused with its reason") {
  OffloadFallback fb;
  Pkt p4 = build(false, 6, 3000, false);
  Pkt p6 = build(true, 6, 3000, false);
  std::vector<iovec> iov;
  auto reason = [&](Bytes b, Offload ol, uint32_t caps = 0) {
    port::Frame f = frame_of(b, iov, 600);
    f.ol = ol;
    return fb.start(f, caps);
  };
  Offload ol = gso_of(p4, 1448);
  CHECK(reason(p4.b, ol) == OffloadError::kNone);
  ol.gso_size = 0;
  CHECK(reason(p4.b, ol) == OffloadError::kGsoSize);
  ol = gso_of(p4, 1448);
  ol.gso = Offload::Gso::kTcpV6;  // says IPv6, is IPv4
  CHECK(reason(p4.b, ol) == OffloadError::kL3);
  ol = gso_of(p6, 1448);
  ol.gso = Offload::Gso::kTcpV4;
  CHECK(reason(p6.b, ol) == OffloadError::kL3);
  ol = gso_of(p4, 1448);
  ol.gso = Offload::Gso::kUdpL4;  // says UDP, is TCP
  ol.csum_offset = 6;
  CHECK(reason(p4.b, ol) == OffloadError::kL4);
  ol = gso_of(p4, 1448);
  ol.csum_start = 20;  // not the L4 header
  CHECK(reason(p4.b, ol) == OffloadError::kCsumOffsets);
  Bytes frag = p4.b;
  frag[p4.l3 + 6] |= 0x20;  // more fragments
  CHECK(reason(frag, gso_of(p4, 1448)) == OffloadError::kL3);
  Bytes longer = p4.b;
  wr16(longer, p4.l3 + 2, 60000);  // IP length past the frame
  CHECK(reason(longer, gso_of(p4, 1448)) == OffloadError::kL3);
  Bytes short_tcp(p4.b.begin(), p4.b.begin() + long(p4.l4) + 10);
  wr16(short_tcp, p4.l3 + 2, uint16_t(short_tcp.size() - p4.l3));
  CHECK(reason(short_tcp, gso_of(p4, 1448)) == OffloadError::kL4);
  Bytes arp(p4.b);
  arp[12] = 0x08;
  arp[13] = 0x06;
  CHECK(reason(arp, gso_of(p4, 1448)) == OffloadError::kL3);
  // Plain partial checksum with the field beyond the frame.
  Offload c;
  c.flags = Offload::kNeedsCsum;
  c.csum_start = uint16_t(p4.b.size() - 1);
  c.csum_offset = 0;
  CHECK(reason(p4.b, c) == OffloadError::kCsumOffsets);
  c.csum_start = 40;
  c.csum_offset = 0xffff;
  CHECK(reason(p4.b, c) == OffloadError::kCsumOffsets);
  c.csum_start = 4;
  c.csum_offset = 0;
  CHECK(reason(p4.b, c) == OffloadError::kCsumOffsets);
}

TEST_CASE("a GSO frame with one byte per segment and one with more pieces than the scratch") {
  OffloadFallback fb;
  Pkt p = build(false, 6, 300, false);
  std::vector<iovec> iov;
  port::Frame f = frame_of(p.b, iov, 1);  // 1-byte segments: linearised
  f.ol = gso_of(p, 1);
  const std::vector<Bytes> segs = run(fb, f, 0);
  REQUIRE(segs.size() == 300);
  for (size_t k = 0; k < segs.size(); ++k) {
    CHECK(segs[k].size() == p.hdr + 1);
    CHECK(segs[k].back() == p.b[p.hdr + k]);
    CHECK(l4_ok(p, segs[k]));
  }
}

TEST_CASE("bridge: each destination gets a GSO frame in the form it can take") {
  namespace cap = port::OffloadCap;
  // p0, p2 on thread 0; p1, p3 on thread 1: same-thread and ring delivery both convert.
  test::BridgeRig r(2);
  for (int i = 0; i < 4; ++i) r.add("p" + std::to_string(i), unsigned(i % 2));
  r.ports[1]->set_offload_caps(0);                             // a stream socket
  r.ports[2]->set_offload_caps(cap::kCsum | cap::kTso4);       // a tap with offloads
  r.ports[3]->set_offload_caps(cap::kCsum);                    // checksum only
  Pkt p = build(false, 6, 5000, false);
  Bytes bad = p.b;
  bad[p.l3 + 9] = 17;  // says TCPv4, carries UDP
  Offload ol = gso_of(p, 1448);
  // Unknown destination MAC: flooded to all three.
  r.ports[0]->inject_sync({p.b, bad}, 700, {ol, ol});
  REQUIRE(test::wait_until([&] {
    return r.ports[1]->count() == 4 && r.ports[2]->count() == 2 && r.ports[3]->count() == 4;
  }));
  r.quiesce();
  for (const Bytes& s : r.ports[1]->received()) {
    CHECK(s.size() <= p.hdr + 1448);
    CHECK(l4_ok(p, s));
    CHECK(ip_ok(p, s));
  }
  for (const Offload& o : r.ports[1]->received_ol()) CHECK(o.plain());
  CHECK(r.ports[2]->received()[0] == p.b);  // whole, untouched
  CHECK(r.ports[2]->received_ol()[0].gso == Offload::Gso::kTcpV4);
  for (const Offload& o : r.ports[3]->received_ol()) CHECK(o.needs_csum());
  CHECK(r.port_stats(0).in_gso == 2);
  CHECK(r.port_stats(0).in_csum == 2);
  CHECK(r.port_stats(1).sw_segmented == 1);
  CHECK(r.port_stats(1).sw_segments == 4);
  CHECK(r.port_stats(1).drop_offload[size_t(OffloadError::kL4)] == 1);
  CHECK(r.port_stats(2).out_gso == 2);
  CHECK(r.port_stats(2).sw_segmented == 0);
  CHECK(r.port_stats(3).out_csum == 4);
  CHECK(r.port_stats(3).drop_offload[size_t(OffloadError::kL4)] == 1);
  // Ports that take the frame whole do not look inside it: the bad one went to p2 as it was.
  CHECK(r.port_stats(2).out_frames == 2);
}

}  // namespace
}  // namespace uvs::bridge
