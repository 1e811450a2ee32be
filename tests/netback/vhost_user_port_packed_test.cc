// SPDX-License-Identifier: MIT
// VhostUserNetPort on packed rings (virtio 1.1 section 2.7): TX and RX through the port, the wrap
// counters in GET_VRING_BASE, and a bad packed descriptor breaking only its port.
#include "tests/netback/vhost_user_port_fixture.h"

using namespace uvs;
using namespace uvs::netback;
using namespace uvs::netback::test;

TEST_CASE("packed rings: TX and RX through the port; GET_VRING_BASE carries the wrap counters") {
  PortFixture f;
  // Packed rings in the upper part of guest RAM, away from the split ones.
  TestPackedRing prx(f.fe->guest, 8, 1536 << 10), ptx(f.fe->guest, 8, 1792 << 10);
  uint64_t offered = f.fe->bring_up(kBasic | virtio::feature_bit(feat::kRingPacked), true, true,
                                    &prx, &ptx);
  REQUIRE((offered & virtio::feature_bit(feat::kRingPacked)) != 0);
  REQUIRE(f.port->state() == port::PortState::kUp);

  // 11 frames through an 8-entry TX ring: the wrap counters flip once.
  std::vector<uint8_t> hdr(12, 0);
  for (uint16_t k = 0; k < 11; ++k) {
    std::vector<uint8_t> all = hdr;
    auto fr = test_frame(60, static_cast<uint8_t>(k));
    all.insert(all.end(), fr.begin(), fr.end());
    ptx.add_chain(static_cast<uint16_t>(100 + k), {{uint32_t(all.size()), false, all.data()}});
    f.fe->kick_tx();
    TestPackedRing::Used u;
    REQUIRE(ptx.pop_used(&u));
    CHECK(u.id == 100 + k);
  }
  REQUIRE(f.sink.frames.size() == 11);
  CHECK(f.sink.frames[10] == test_frame(60, 10));

  prx.add_chain(3, {{2048, true}});
  auto fr = test_frame(100, 7);
  iovec iov{fr.data(), fr.size()};
  port::Frame frame{&iov, 1, 100};
  CHECK(f.port->send_burst({&frame, 1}) == 1);
  TestPackedRing::Used u;
  REQUIRE(prx.pop_used(&u));
  CHECK(u.id == 3);
  CHECK(u.len == 112);
  CHECK(std::memcmp(f.fe->guest.host(prx.desc()[0].addr) + 12, fr.data(), 100) == 0);
  CHECK(f.fe->calls(0) == 1);
  CHECK(f.port->send_burst({&frame, 1}) == 0);  // no buffer left

  // Stop the TX ring: avail and used are at entry 3 of the second lap (wrap counter 0).
  vu::VringState st{1, 0};
  f.fe->send(R::kGetVringBase, &st, sizeof st);
  vu::VhostUserHeader h;
  vu::VringState reply{};
  REQUIRE(f.fe->recv_reply(&h, &reply, sizeof reply) == sizeof reply);
  CHECK(reply.index == 1);
  CHECK(reply.num == 0x00030003u);

  // Resume there: the next buffer is found at entry 3 with wrap counter 0.
  vu::VringState base{1, reply.num};
  f.fe->send(R::kSetVringBase, &base, sizeof base);
  f.fe->set_u64(R::kSetVringKick, 1, {f.fe->kick[1]});
  std::vector<uint8_t> all = hdr;
  auto last = test_frame(60, 42);
  all.insert(all.end(), last.begin(), last.end());
  ptx.add_chain(200, {{uint32_t(all.size()), false, all.data()}});
  f.fe->kick_tx();
  REQUIRE(f.sink.frames.size() == 12);
  CHECK(f.sink.frames[11] == last);
  REQUIRE(ptx.pop_used(&u));
  CHECK(u.id == 200);
  CHECK(f.port->stats().protocol_errors == 0);
}

TEST_CASE("packed rings: a bad descriptor breaks only that port, and is counted") {
  BadGoodPorts t;
  CollectSink &sink_b = t.sink_b;
  VhostUserNetPort &a = *t.a, &b = *t.b;
  Frontend &fa = *t.fa, &fb = *t.fb;
  const uint64_t packed = kBasic | virtio::feature_bit(feat::kRingPacked) |
                          virtio::feature_bit(feat::kRingIndirectDesc);
  TestPackedRing arx(fa.guest, 8, 1536 << 10), atx(fa.guest, 8, 1792 << 10);
  TestPackedRing brx(fb.guest, 8, 1536 << 10), btx(fb.guest, 8, 1792 << 10);
  fa.bring_up(packed, true, true, &arx, &atx);
  fb.bring_up(packed, true, true, &brx, &btx);

  SUBCASE("a buffer outside guest memory") {
    atx.add_raw({{0xdead0000000ull, 64, 1, 0}});
  }
  SUBCASE("a chain running into an entry that is not available") {
    atx.add_raw({{atx.alloc(64), 64, 0, virtio::kDescFNext}});
  }
  SUBCASE("an indirect table of 17 bytes") {
    atx.add_raw({{atx.alloc(32), 17, 1, virtio::kDescFIndirect}});
  }
  fa.kick_tx();
  CHECK(a.state() == port::PortState::kBroken);
  CHECK(fa.peer_closed());
  CHECK(a.stats().protocol_errors == 1);

  std::vector<uint8_t> all(12, 0);
  auto fr = test_frame(60, 1);
  all.insert(all.end(), fr.begin(), fr.end());
  btx.add_chain(1, {{uint32_t(all.size()), false, all.data()}});
  fb.kick_tx();
  CHECK(sink_b.frames.size() == 1);
  CHECK(b.state() == port::PortState::kUp);
}
