// SPDX-License-Identifier: MIT
// VhostUserNetPort driven by an in-test fake frontend over a socket: negotiation, TX/RX through
// split rings in memfd guest memory, replies and acks, ring stop, RARP, config space and mem slots.
#include "tests/netback/vhost_user_port_fixture.h"

using namespace uvs;
using namespace uvs::netback;
using namespace uvs::netback::test;

TEST_CASE("negotiation: offered features, protocol features, queue num, mem slots") {
  VhostUserNetOptions opts;
  opts.offloads = true;
  PortFixture f(opts);
  uint64_t offered = f.fe->get_u64(R::kGetFeatures);
  CHECK((offered & virtio::feature_bit(feat::kVersion1)) != 0);
  CHECK((offered & virtio::feature_bit(feat::kNetMrgRxbuf)) != 0);
  CHECK((offered & virtio::feature_bit(feat::kRingEventIdx)) != 0);
  CHECK((offered & virtio::feature_bit(feat::kVhostUserProtocolFeatures)) != 0);
  CHECK((offered & virtio::feature_bit(feat::kLogAll)) != 0);  // live migration
  for (uint32_t bit : {feat::kNetCsum, feat::kNetGuestCsum, feat::kNetHostTso4, feat::kNetHostTso6,
                       feat::kNetHostEcn, feat::kNetGuestTso4, feat::kNetGuestTso6,
                       feat::kNetGuestEcn}) {
    CHECK((offered & virtio::feature_bit(bit)) != 0);
  }
  // UFO has no segmenter; no peer here knows the USO bits.
  for (uint32_t bit : {feat::kNetHostUfo, feat::kNetGuestUfo, feat::kNetHostUso,
                       feat::kNetGuestUso4, feat::kNetGuestUso6}) {
    CHECK((offered & virtio::feature_bit(bit)) == 0);
  }
  uint64_t pf = f.fe->get_u64(R::kGetProtocolFeatures);
  CHECK((pf & vu::protocol_bit(vu::ProtocolFeature::kMq)) != 0);
  CHECK((pf & vu::protocol_bit(vu::ProtocolFeature::kConfigureMemSlots)) != 0);
  CHECK((pf & vu::protocol_bit(vu::ProtocolFeature::kLogShmfd)) != 0);
  f.fe->set_u64(R::kSetProtocolFeatures, pf);
  CHECK(f.fe->get_u64(R::kGetQueueNum) == 1);
  CHECK(f.fe->get_u64(R::kGetMaxMemSlots) == kMaxMemSlots);
  CHECK(f.port->state() == port::PortState::kDown);
  CHECK(f.port->connected());
}

TEST_CASE("TX: guest frames reach the sink without the header; used ring and call updated") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  CHECK(f.port->state() == port::PortState::kUp);
  auto a = test_frame(60, 1), b = test_frame(1514, 2);
  uint16_t ha = f.fe->post_tx(a, false);
  uint16_t hb = f.fe->post_tx(b, true);
  f.fe->kick_tx();
  REQUIRE(f.sink.frames.size() == 2);
  CHECK(f.sink.frames[0] == a);
  CHECK(f.sink.frames[1] == b);
  CHECK(f.fe->tx.used_idx() == 2);
  CHECK(f.fe->tx.used()->ring[0].id == ha);
  CHECK(f.fe->tx.used()->ring[1].id == hb);
  CHECK(f.fe->calls(1) == 1);  // one interrupt for the burst
  auto s = f.port->stats();
  CHECK(s.total.in_frames == 2);
  CHECK(s.total.in_bytes == 60 + 1514);
  CHECK(s.total.kicks == 1);
}

TEST_CASE("TX: buffers posted before the ring started are processed without a kick") {
  PortFixture f;
  auto a = test_frame(100, 3);
  f.fe->post_tx(a, false);
  f.fe->bring_up(kBasic);
  f.fe->pump(4);
  REQUIRE(f.sink.frames.size() == 1);
  CHECK(f.sink.frames[0] == a);
}

TEST_CASE("TX: too short and oversize chains are dropped and counted, not fatal") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  f.fe->post_tx(test_frame(8, 1), false);  // 12 + 8 < 12 + 14
  f.fe->post_tx(test_frame(60, 2), false);
  f.fe->kick_tx();
  CHECK(f.sink.frames.size() == 1);
  CHECK(f.port->stats().total.in_drop_too_short == 1);
  CHECK(f.fe->tx.used_idx() == 2);
  CHECK(f.port->state() == port::PortState::kUp);
}

TEST_CASE("RX: send_burst writes header + frame, num_buffers 1, one call per burst") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  for (int i = 0; i < 4; ++i) f.fe->rx.add_chain({{2048, true}});
  auto a = test_frame(60, 7), b = test_frame(1000, 8);
  iovec ia[2] = {{a.data(), 20}, {a.data() + 20, 40}};
  iovec ib{b.data(), b.size()};
  port::Frame frames[2] = {{ia, 2, 60}, {&ib, 1, 1000}};
  CHECK(f.port->send_burst(frames) == 2);
  CHECK(f.fe->rx.used_idx() == 2);
  CHECK(f.fe->calls(0) == 1);
  auto* used = f.fe->rx.used();
  CHECK(used->ring[0].len == 12 + 60);
  CHECK(used->ring[1].len == 12 + 1000);
  const uint8_t* buf0 = f.fe->guest.host(f.fe->rx.desc()[used->ring[0].id].addr);
  virtio::VirtioNetHdrV1 h;
  std::memcpy(&h, buf0, 12);
  CHECK(h.num_buffers == 1);
  CHECK(h.flags == 0);
  CHECK(std::memcmp(buf0 + 12, a.data(), 60) == 0);
  auto s = f.port->stats();
  CHECK(s.total.out_frames == 2);
  CHECK(s.total.out_bytes == 1060);
}

TEST_CASE("RX: no buffers → nothing taken and counted; frame bigger than a buffer dropped") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  auto a = test_frame(200, 1);
  iovec ia{a.data(), a.size()};
  port::Frame fr[2] = {{&ia, 1, 200}, {&ia, 1, 200}};
  CHECK(f.port->send_burst(fr) == 0);
  CHECK(f.port->stats().total.out_drop_no_buffers == 2);
  f.fe->rx.add_chain({{100, true}});  // too small without mergeable buffers
  CHECK(f.port->send_burst({fr, 1}) == 1);  // taken (and dropped: it can never fit)
  CHECK(f.port->stats().total.out_drop_too_big == 1);
  CHECK(f.fe->rx.used_idx() == 0);  // the buffer was not consumed
}

TEST_CASE("RX mergeable: a frame spans several buffers and num_buffers says how many") {
  PortFixture f;
  f.fe->bring_up(kBasic | virtio::feature_bit(feat::kNetMrgRxbuf));
  for (int i = 0; i < 8; ++i) f.fe->rx.add_chain({{256, true}});
  auto a = test_frame(600, 9);  // 612 bytes with the header: 3 buffers of 256
  iovec ia{a.data(), a.size()};
  port::Frame fr{&ia, 1, 600};
  CHECK(f.port->send_burst({&fr, 1}) == 1);
  CHECK(f.fe->rx.used_idx() == 3);
  auto* used = f.fe->rx.used();
  CHECK(used->ring[0].len == 256);
  CHECK(used->ring[1].len == 256);
  CHECK(used->ring[2].len == 100);
  std::vector<uint8_t> got;
  for (int k = 0; k < 3; ++k) {
    const uint8_t* p = f.fe->guest.host(f.fe->rx.desc()[used->ring[k].id].addr);
    got.insert(got.end(), p, p + used->ring[k].len);
  }
  virtio::VirtioNetHdrV1 h;
  std::memcpy(&h, got.data(), 12);
  CHECK(h.num_buffers == 3);
  CHECK(std::equal(a.begin(), a.end(), got.begin() + 12));
  // Not enough buffers left for a second big frame: nothing consumed, nothing published.
  auto big = test_frame(1500, 1);
  iovec ib{big.data(), big.size()};
  port::Frame fb{&ib, 1, 1500};
  CHECK(f.port->send_burst({&fb, 1}) == 0);
  CHECK(f.fe->rx.used_idx() == 3);
}

TEST_CASE("EVENT_IDX: no call until used_event is crossed") {
  PortFixture f;
  f.fe->bring_up(kBasic | virtio::feature_bit(feat::kRingEventIdx));
  f.fe->tx.used_event() = 1;  // interrupt once the second chain is used
  f.fe->post_tx(test_frame(60, 1), false);
  f.fe->kick_tx();
  CHECK(f.fe->calls(1) == 0);
  f.fe->post_tx(test_frame(60, 2), false);
  f.fe->kick_tx();
  CHECK(f.fe->calls(1) == 1);
  CHECK(f.fe->tx.avail_event() == 2);  // kicks re-armed for the next buffer
}

TEST_CASE("rings start disabled with PROTOCOL_FEATURES until SET_VRING_ENABLE") {
  PortFixture f;
  f.fe->bring_up(kBasic, true, false);
  CHECK(f.port->state() == port::PortState::kDown);
  f.fe->post_tx(test_frame(60, 1), false);
  f.fe->kick_tx();
  CHECK(f.sink.frames.empty());
  vu::VringState e{1, 1};
  f.fe->send(R::kSetVringEnable, &e, sizeof e);
  f.fe->pump(4);
  CHECK(f.sink.frames.size() == 1);
}

TEST_CASE("without PROTOCOL_FEATURES rings start enabled") {
  PortFixture f;
  f.fe->bring_up(kBasic, false);
  f.fe->post_tx(test_frame(60, 1), false);
  f.fe->kick_tx();
  CHECK(f.sink.frames.size() == 1);
}

TEST_CASE("GET_VRING_BASE stops the ring and returns where to resume") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  f.fe->post_tx(test_frame(60, 1), false);
  f.fe->post_tx(test_frame(60, 2), false);
  f.fe->kick_tx();
  vu::VringState s{1, 0};
  f.fe->send(R::kGetVringBase, &s, sizeof s);
  vu::VhostUserHeader h;
  vu::VringState got{};
  REQUIRE(f.fe->recv_reply(&h, &got, sizeof got) == 8);
  CHECK(got.index == 1);
  CHECK(got.num == 2);
  f.fe->post_tx(test_frame(60, 3), false);
  f.fe->kick_tx();  // the kick fd was closed with the ring: nothing happens
  CHECK(f.sink.frames.size() == 2);
  CHECK(f.port->stats().total.in_frames == 2);
}

TEST_CASE("REPLY_ACK: success acks 0, unsupported requests ack non-zero and keep the link") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  vu::VringState e{1, 1};
  CHECK(f.fe->acked(R::kSetVringEnable, &e, sizeof e) == 0);
  uint64_t dummy = 0;
  CHECK(f.fe->acked(R::kIotlbMsg, &dummy, 8) == 1);
  CHECK(f.fe->acked(R::kSetConfig, nullptr, 0) == -1);  // malformed (size 0): connection dropped
  CHECK(f.port->state() == port::PortState::kBroken);
}

TEST_CASE("GET_CONFIG returns the MAC, status and MTU") {
  VhostUserNetOptions o;
  o.mtu = 9000;
  o.has_mac = true;
  o.mac = {0x52, 0x54, 0, 1, 2, 3};
  PortFixture f(o);
  CHECK((f.fe->get_u64(R::kGetFeatures) & virtio::feature_bit(feat::kNetMac)) != 0);
  vu::ConfigSpace c{};
  c.hdr = {0, 12, 0};
  f.fe->send(R::kGetConfig, &c, 12 + 12);
  vu::VhostUserHeader h;
  vu::ConfigSpace got{};
  REQUIRE(f.fe->recv_reply(&h, &got, sizeof got) == 24);
  virtio::VirtioNetConfig cfg{};
  std::memcpy(&cfg, got.region, 12);
  CHECK(std::memcmp(cfg.mac, o.mac.data(), 6) == 0);
  CHECK(cfg.status == virtio::kNetSLinkUp);
  CHECK(cfg.max_virtqueue_pairs == 1);
  CHECK(cfg.mtu == 9000);
  c.hdr = {20, 8, 0};  // beyond the 24-byte config
  f.fe->send(R::kGetConfig, &c, 12 + 8);
  CHECK(f.fe->recv_reply(&h, &got, sizeof got) == 0);
}

TEST_CASE("SEND_RARP injects a RARP frame from the guest MAC") {
  PortFixture f;
  uint8_t mac[8] = {0x52, 0x54, 0, 0xaa, 0xbb, 0xcc, 0, 0};
  f.fe->send(R::kSendRarp, mac, 8);
  REQUIRE(f.sink.frames.size() == 1);
  const auto& fr = f.sink.frames[0];
  CHECK(fr.size() == 60);
  CHECK(fr[0] == 0xff);
  CHECK(std::memcmp(fr.data() + 6, mac, 6) == 0);
  CHECK(fr[12] == 0x80);
  CHECK(fr[13] == 0x35);
  CHECK(fr[21] == 3);
}

TEST_CASE("ADD_MEM_REG / REM_MEM_REG with CONFIGURE_MEM_SLOTS") {
  PortFixture f;
  f.fe->set_u64(R::kSetProtocolFeatures, VhostUserDevice::offered_protocol_features());
  vu::SingleMemoryRegion r{};
  r.region = {TestGuest::kGpa, f.fe->guest.size, TestGuest::kUva, 0};
  CHECK(f.fe->acked(R::kAddMemReg, &r, sizeof r, {f.fe->guest.fd}) == 0);
  CHECK(f.port->device().memory().region_count() == 1);
  CHECK(f.fe->acked(R::kRemMemReg, &r, sizeof r) == 0);
  CHECK(f.port->device().memory().region_count() == 0);
  CHECK(f.fe->acked(R::kRemMemReg, &r, sizeof r) == 1);  // no such region: refused, link kept
  CHECK(f.port->connected());
}
