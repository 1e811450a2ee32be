// SPDX-License-Identifier: MIT
// Capture: filtering on the port thread (scattered frames too), snaplen, queue-full drops
// counted exactly, stop() draining everything, clear errors for a bad filter, and partial
// checksums completed in the copy.
#include "switch/capture.h"

#include <doctest/doctest.h>
#include <sys/uio.h>

#include <cstring>
#include <vector>

#include "port/inet_csum.h"
#include "tests/capture/pcap_reader.h"

using namespace uvs::bridge;
using namespace uvs::bridge::test;
using uvs::port::Frame;

namespace {

// An Ethernet frame of `len` bytes with EtherType `type`, bytes after the header = seed + i.
std::vector<uint8_t> eth(uint16_t type, size_t len, uint8_t seed) {
  std::vector<uint8_t> f(len);
  for (size_t i = 0; i < 6; ++i) f[i] = 0xff;
  for (size_t i = 6; i < 12; ++i) f[i] = uint8_t(0x02 + i);
  f[12] = uint8_t(type >> 8);
  f[13] = uint8_t(type);
  for (size_t i = 14; i < len; ++i) f[i] = uint8_t(seed + i);
  return f;
}

struct Burst {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<iovec> iov;  // one or three segments per frame
  std::vector<Frame> frames;

  void build(bool scattered) {
    iov.clear();
    frames.clear();
    iov.reserve(bytes.size() * 3);
    for (auto& b : bytes) {
      const size_t first = iov.size();
      if (scattered) {
        // 5 + 20 + rest: the EtherType straddles segments, so the filter needs the copy.
        iov.push_back({b.data(), 5});
        iov.push_back({b.data() + 5, 20});
        iov.push_back({b.data() + 25, b.size() - 25});
      } else {
        iov.push_back({b.data(), b.size()});
      }
      frames.push_back(Frame{&iov[first], uint32_t(iov.size() - first), uint32_t(b.size())});
    }
  }
};

}  // namespace

TEST_CASE("a filter keeps only matching frames, whole or scattered, and counts the rest") {
  for (bool scattered : {false, true}) {
    CAPTURE(scattered);
    TempDir dir;
    CaptureOptions o;
    o.port = "vm0";
    o.path = dir.file("f.pcap");
    o.filter = "arp";
    o.snaplen = 64;
    std::string err;
    auto c = Capture::create(o, &err);
    REQUIRE_MESSAGE(c, err);
    Burst b;
    for (int i = 0; i < 10; ++i) b.bytes.push_back(eth(i % 3 == 0 ? 0x0806 : 0x0800, 200, uint8_t(i)));
    b.build(scattered);
    c->tap(b.frames, 42'000'000'123);
    c->stop();
    CaptureCounts n = c->counts();
    CHECK(n.written == 4);  // i = 0, 3, 6, 9
    CHECK(n.filtered_out == 6);
    CHECK(n.dropped == 0);
    PcapFile f = read_pcap(o.path);
    REQUIRE_MESSAGE(f.ok, f.error);
    REQUIRE(f.frames.size() == 4);
    for (size_t k = 0; k < 4; ++k) {
      CHECK(f.frames[k].ts_ns == 42'000'000'123);
      CHECK(f.frames[k].len == 200);
      CHECK(f.frames[k].caplen == 64);  // snaplen
      CHECK(std::equal(f.frames[k].data.begin(), f.frames[k].data.end(), b.bytes[k * 3].begin()));
    }
  }
}

TEST_CASE("a full queue drops from the capture and counts every drop") {
  TempDir dir;
  CaptureOptions o;
  o.port = "vm0";
  o.path = dir.file("d.pcap");
  o.queue_bytes = 64 << 10;  // the smallest queue
  std::string err;
  auto c = Capture::create(o, &err);
  REQUIRE(c);
  Burst b;
  for (int i = 0; i < 64; ++i) b.bytes.push_back(eth(0x0800, 1500, uint8_t(i)));
  b.build(false);
  // One burst is published at its end, so the writer cannot make room during it: 43 records of
  // 16 + 1500 bytes fit in 64 KiB, the other 21 are dropped.
  c->tap(b.frames, 1);
  c->stop();
  CaptureCounts n = c->counts();
  CHECK(n.written == 43);
  CHECK(n.dropped == 21);
  PcapFile f = read_pcap(o.path);
  REQUIRE(f.ok);
  REQUIRE(f.frames.size() == 43);
  CHECK(f.frames[42].data == b.bytes[42]);
}

TEST_CASE("stop() writes everything queued, over many bursts") {
  TempDir dir;
  CaptureOptions o;
  o.port = "vm0";
  o.path = dir.file("m.pcap");
  std::string err;
  auto c = Capture::create(o, &err);
  REQUIRE(c);
  Burst b;
  for (int i = 0; i < 32; ++i) b.bytes.push_back(eth(0x0800, 60 + i, uint8_t(i)));
  b.build(false);
  for (int r = 0; r < 500; ++r) c->tap(b.frames, r);
  c->stop();
  CaptureCounts n = c->counts();
  CHECK(n.written + n.dropped == 500 * 32);
  PcapFile f = read_pcap(o.path);
  REQUIRE(f.ok);
  CHECK(f.frames.size() == n.written);
  // Order is kept: timestamps never go backwards.
  bool ordered = true;
  for (size_t k = 1; k < f.frames.size(); ++k) ordered = ordered && f.frames[k].ts_ns >= f.frames[k - 1].ts_ns;
  CHECK(ordered);
}

TEST_CASE("a bad filter or path is refused with the port's name, starting nothing") {
  TempDir dir;
  CaptureOptions o;
  o.port = "vm7";
  o.path = dir.file("x.pcap");
  o.filter = "tcp port";
  std::string err;
  CHECK_FALSE(Capture::create(o, &err));
  CHECK(err.find("capture of vm7: bad filter 'tcp port'") == 0);
  CHECK_FALSE(std::filesystem::exists(o.path));
  o.filter = "";
  o.path = dir.file("no/dir/x.pcap");
  CHECK_FALSE(Capture::create(o, &err));
  CHECK(err.find("capture of vm7: cannot open") == 0);
}

TEST_CASE("egress: frames a port answers inside send_burst follow the offered ones; refused ones vanish") {
  TempDir dir;
  CaptureOptions o;
  o.port = "nat0";
  o.path = dir.file("e.pcap");
  std::string err;
  auto c = Capture::create(o, &err);
  REQUIRE(c);
  Burst offered, reply;
  for (int i = 0; i < 4; ++i) offered.bytes.push_back(eth(0x0800, 80, uint8_t(10 * i)));
  reply.bytes.push_back(eth(0x0806, 60, 200));
  offered.build(false);
  reply.build(false);
  REQUIRE(c->tap_offered(offered.frames, 1));
  CHECK_FALSE(c->tap_offered(offered.frames, 1));  // nested egress falls back to tap()
  c->tap(reply.frames, 2);                          // the port answers while taking the burst
  c->settle(2);                                     // ... and took only two of four
  c->stop();
  CHECK(c->counts().written == 3);
  PcapFile f = read_pcap(o.path);
  REQUIRE(f.ok);
  REQUIRE(f.frames.size() == 3);
  CHECK(f.frames[0].data == offered.bytes[0]);
  CHECK(f.frames[1].data == offered.bytes[1]);
  CHECK(f.frames[2].data == reply.bytes[0]);
}

namespace {

// A TCP/IPv4 frame of `payload` bytes with valid checksums; returns its TCP checksum too.
std::vector<uint8_t> tcp4_frame(size_t payload, uint16_t* tcp_csum) {
  std::vector<uint8_t> f = eth(0x0800, 14 + 20 + 20 + payload, 7);
  uint8_t* ip = &f[14];
  std::memset(ip, 0, 40);
  ip[0] = 0x45;
  const uint16_t tot = uint16_t(40 + payload);
  ip[2] = uint8_t(tot >> 8);
  ip[3] = uint8_t(tot);
  ip[8] = 64;
  ip[9] = 6;
  const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
  std::memcpy(ip + 12, src, 4);
  std::memcpy(ip + 16, dst, 4);
  uint8_t* tcp = ip + 20;
  tcp[12] = 5 << 4;
  tcp[13] = 0x18;
  uvs::port::CsumAcc ph;  // pseudo-header (RFC 793 3.1)
  ph.add(ip + 12, 8);
  ph.add_u16(6);
  ph.add_u16(uint16_t(20 + payload));
  uvs::port::CsumAcc all = ph;
  all.add(tcp, 20 + payload);
  *tcp_csum = uint16_t(~all.sum16());
  // What a sender with a checksum offload leaves there: the pseudo-header sum, not inverted.
  const uint16_t partial = ph.sum16();
  tcp[16] = uint8_t(partial >> 8);
  tcp[17] = uint8_t(partial);
  return f;
}

}  // namespace

TEST_CASE("a partial checksum is completed in the capture's copy, not in the frame") {
  for (int variant = 0; variant < 3; ++variant) {
    const bool scattered = variant == 1, snap = variant == 2;
    CAPTURE(variant);
    TempDir dir;
    CaptureOptions o;
    o.port = "t1";
    o.path = dir.file("c.pcap");
    if (snap) o.snaplen = 100;  // the field is inside the snaplen, most of the payload is not
    std::string err;
    auto c = Capture::create(o, &err);
    REQUIRE_MESSAGE(c, err);
    uint16_t want = 0;
    Burst b;
    b.bytes.push_back(tcp4_frame(3001, &want));  // odd length: the last byte is half a word
    const std::vector<uint8_t> original = b.bytes[0];
    b.build(scattered);
    b.frames[0].ol.flags = uvs::port::Offload::kNeedsCsum;
    b.frames[0].ol.csum_start = 14 + 20;
    b.frames[0].ol.csum_offset = 16;
    c->tap(b.frames, 1);
    c->stop();
    PcapFile f = read_pcap(o.path);
    REQUIRE_MESSAGE(f.ok, f.error);
    REQUIRE(f.frames.size() == 1);
    const auto& got = f.frames[0].data;
    REQUIRE(got.size() >= 14 + 20 + 18);
    CHECK((uint16_t(got[14 + 20 + 16] << 8) | got[14 + 20 + 17]) == want);
    CHECK(b.bytes[0] == original);  // the frame that crossed the switch is untouched
  }
}
