// SPDX-License-Identifier: MIT
// Component tests of vhost-user offloads: negotiation and renegotiation, 64 KiB GSO frames into
// mergeable and big RX buffers, and every malformed TX header dropped and counted by reason
// while the other ports keep forwarding; each on split and on packed rings.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "netback/common/net_hdr.h"
#include "tests/frontend/backend_harness.h"
#include "tests/netback/offload_frames.h"

namespace v = uvs::netback::virtio;
namespace feat = uvs::netback::virtio::feature;
namespace cap = uvs::port::OffloadCap;
using uvs::frontend::FrontendOptions;
using uvs::frontend::RxFrame;
using uvs::frontend::VhostFrontend;
using uvs::frontend::test::BackendHarness;
using uvs::frontend::test::in_layout;
using uvs::frontend::test::packed_ring_subcase;
using uvs::netback::BadHdr;
using uvs::netback::test::offload_frame;
using uvs::netback::test::offload_hdr;
using uvs::netback::test::OffloadFrameSpec;
using uvs::port::PortState;

namespace {

constexpr uint64_t kGuestOffloads =
    v::feature_bit(feat::kNetGuestCsum) | v::feature_bit(feat::kNetGuestTso4) |
    v::feature_bit(feat::kNetGuestTso6) | v::feature_bit(feat::kNetGuestEcn);
constexpr uint64_t kHostOffloads =
    v::feature_bit(feat::kNetCsum) | v::feature_bit(feat::kNetHostTso4) |
    v::feature_bit(feat::kNetHostTso6) | v::feature_bit(feat::kNetHostEcn);

// A guest that takes and sends 64 KiB frames: TX slots and (without MRG_RXBUF) RX buffers big
// enough for a whole superframe, like Linux's "big packets" mode; on packed rings or split ones.
FrontendOptions offload_guest(uint64_t offloads, bool packed, bool mergeable = true) {
  FrontendOptions o = in_layout({}, packed);
  o.queue_size = 64;
  o.features |= offloads;
  o.tx_buf_len = 66 * 1024;
  if (!mergeable) {
    o.features &= ~v::feature_bit(feat::kNetMrgRxbuf);
    o.rx_buf_len = 66 * 1024;
  }
  return o;
}

struct Received {
  std::vector<uint8_t> bytes;
  v::VirtioNetHdrV1 hdr{};
  uint16_t num_buffers = 0;
};

// Receives up to `want` frames within `timeout_ms`, whole (64 KiB buffers).
std::vector<Received> receive(VhostFrontend& fe, size_t want, int timeout_ms = 3000) {
  std::vector<Received> got;
  std::vector<uint8_t> store(4 * 70000);
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (got.size() < want && std::chrono::steady_clock::now() < end) {
    RxFrame out[4];
    for (size_t i = 0; i < 4; ++i) {
      out[i].data = store.data() + i * 70000;
      out[i].capacity = 70000;
    }
    size_t n = fe.receive_frames(out, 20);
    for (size_t i = 0; i < n; ++i) {
      got.push_back({{out[i].data, out[i].data + std::min(out[i].len, out[i].capacity)},
                     out[i].hdr,
                     out[i].num_buffers});
    }
  }
  return got;
}

size_t send_one(VhostFrontend& fe, const std::vector<uint8_t>& frame, const v::VirtioNetHdrV1& h) {
  std::span<const uint8_t> f[1] = {frame};
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
  while (std::chrono::steady_clock::now() < end) {
    if (fe.send_frames(f, 0, {&h, 1}) == 1) return 1;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return 0;
}

template <typename F>
bool wait_for(F&& cond, int timeout_ms = 2000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return cond();
}

}  // namespace

TEST_CASE("offloads: negotiated, reported as offload_caps, and renegotiated") {
  const bool packed = packed_ring_subcase();
  BackendHarness be(2);
  REQUIRE(be.start_error().empty());
  CHECK(be.offload_caps(0) == 0);
  VhostFrontend a(offload_guest(kGuestOffloads | kHostOffloads, packed)),
      plain(in_layout({}, packed));
  REQUIRE(a.connect(be.path(0)).ok());
  REQUIRE(plain.connect(be.path(1)).ok());
  CHECK(a.queue_pair(0).tx().packed() == packed);
  CHECK((a.features() & (kGuestOffloads | kHostOffloads)) == (kGuestOffloads | kHostOffloads));
  CHECK(be.offload_caps(0) == (cap::kCsum | cap::kTso4 | cap::kTso6 | cap::kTsoEcn));
  CHECK(be.offload_caps(1) == 0);

  // A guest driver that reloads renegotiates: SET_FEATURES again, with less.
  uint64_t less = a.features() & ~(v::feature_bit(feat::kNetGuestTso4) |
                                   v::feature_bit(feat::kNetGuestTso6) |
                                   v::feature_bit(feat::kNetGuestEcn));
  REQUIRE(a.request(uvs::netback::vu::VhostUserRequest::kSetFeatures,
                    {reinterpret_cast<const uint8_t*>(&less), sizeof less})
              .ok());
  CHECK(wait_for([&] { return be.offload_caps(0) == cap::kCsum; }));
  uint64_t again = less | kGuestOffloads;
  REQUIRE(a.request(uvs::netback::vu::VhostUserRequest::kSetFeatures,
                    {reinterpret_cast<const uint8_t*>(&again), sizeof again})
              .ok());
  CHECK(wait_for([&] { return be.offload_caps(0) == (cap::kCsum | cap::kTso4 | cap::kTso6 | cap::kTsoEcn); }));
  a.close();
  CHECK(wait_for([&] { return be.offload_caps(0) == 0; }));
}

TEST_CASE("offloads: 64 KiB GSO frames cross whole, into mergeable and into big buffers") {
  const bool packed = packed_ring_subcase();
  BackendHarness be(4);
  REQUIRE(be.start_error().empty());
  VhostFrontend tx(offload_guest(kGuestOffloads | kHostOffloads, packed));
  VhostFrontend merge(offload_guest(kGuestOffloads, packed));
  VhostFrontend big(offload_guest(kGuestOffloads, packed, /*mergeable=*/false));
  // No GUEST_* offloads: must never see a GSO or partial-checksum frame.
  VhostFrontend plain(in_layout({}, packed));
  REQUIRE(tx.connect(be.path(0)).ok());
  REQUIRE(merge.connect(be.path(1)).ok());
  REQUIRE(big.connect(be.path(2)).ok());
  REQUIRE(plain.connect(be.path(3)).ok());
  REQUIRE_FALSE(big.has_feature(feat::kNetMrgRxbuf));
  CHECK(merge.queue_pair(0).rx().packed() == packed);

  for (bool v6 : {false, true}) {
    CAPTURE(v6);
    OffloadFrameSpec s;
    s.ipv6 = v6;
    s.payload = 65535 - 20 - 32 - (v6 ? 20 : 0) - 200;
    auto frame = offload_frame(s);
    auto h = offload_hdr(s, 1448);
    h.gso_type |= v::kNetHdrGsoEcn;
    REQUIRE(send_one(tx, frame, h) == 1);
    for (VhostFrontend* rx : {&merge, &big}) {
      auto got = receive(*rx, 1);
      REQUIRE(got.size() == 1);
      CHECK(got[0].bytes == frame);
      CHECK(got[0].hdr.flags == v::kNetHdrFNeedsCsum);
      CHECK(got[0].hdr.gso_type ==
            ((v6 ? v::kNetHdrGsoTcpV6 : v::kNetHdrGsoTcpV4) | v::kNetHdrGsoEcn));
      CHECK(got[0].hdr.gso_size == 1448);
      CHECK(got[0].hdr.csum_start == h.csum_start);
      CHECK(got[0].hdr.csum_offset == 16);
      CHECK(got[0].hdr.hdr_len == h.hdr_len);
      if (rx == &merge) CHECK(got[0].num_buffers > 30);  // 2 KiB buffers
    }
  }
  // A partial-checksum frame that is not GSO.
  OffloadFrameSpec small;
  small.payload = 300;
  REQUIRE(send_one(tx, offload_frame(small), offload_hdr(small, 0)) == 1);
  auto got = receive(merge, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].hdr.flags == v::kNetHdrFNeedsCsum);
  CHECK(got[0].hdr.gso_type == 0);

  CHECK(receive(plain, 1, 200).empty());
  auto s0 = be.stats(0).total;
  CHECK(s0.in_tso4 == 1);
  CHECK(s0.in_tso6 == 1);
  CHECK(s0.in_ecn == 2);
  CHECK(s0.in_csum == 3);
  auto s1 = be.stats(1).total;
  CHECK(s1.out_tso4 == 1);
  CHECK(s1.out_tso6 == 1);
  CHECK(s1.out_csum == 3);
  CHECK(be.stats(2).total.out_tso6 == 1);
  CHECK(be.stats(2).total.out_drop_too_big == 0);
  // The hub in this harness has no software fallback: the plain guest's port refuses them.
  CHECK(be.stats(3).total.out_drop_offload == 3);
  CHECK(be.stats(3).total.out_frames == 0);
}

TEST_CASE("offloads: each malformed TX header is dropped and counted; the port keeps working") {
  const bool packed = packed_ring_subcase();
  BackendHarness be(3);
  REQUIRE(be.start_error().empty());
  // The victim acks CSUM and HOST_TSO4 only, so TSO6 and ECN are "not negotiated" for it.
  const uint64_t victim_features = v::feature_bit(feat::kNetCsum) |
                                   v::feature_bit(feat::kNetHostTso4) | kGuestOffloads;
  VhostFrontend victim(offload_guest(victim_features, packed)),
      b(offload_guest(kGuestOffloads, packed)), c(in_layout({}, packed));
  REQUIRE(victim.connect(be.path(0)).ok());
  REQUIRE(b.connect(be.path(1)).ok());
  REQUIRE(c.connect(be.path(2)).ok());
  for (size_t i = 0; i < 3; ++i) REQUIRE(be.wait_state(i, PortState::kUp, 2000));
  CHECK(victim.queue_pair(0).tx().packed() == packed);

  OffloadFrameSpec s;
  s.payload = 20000;
  const auto frame = offload_frame(s);
  const auto good = offload_hdr(s, 1448);
  OffloadFrameSpec s6 = s;
  s6.ipv6 = true;
  OffloadFrameSpec udp = s;
  udp.proto = 17;

  struct Case {
    const char* name;
    BadHdr reason;
    std::vector<uint8_t> frame;
    v::VirtioNetHdrV1 hdr;
  };
  std::vector<Case> cases;
  auto with = [&](auto edit) {
    auto h = good;
    edit(h);
    return h;
  };
  cases.push_back({"tso6 not negotiated", BadHdr::kGsoNotNegotiated, offload_frame(s6),
                   offload_hdr(s6, 1448)});
  cases.push_back({"ecn not negotiated", BadHdr::kGsoNotNegotiated, frame,
                   with([](auto& h) { h.gso_type |= v::kNetHdrGsoEcn; })});
  cases.push_back({"ufo", BadHdr::kGsoNotNegotiated, frame,
                   with([](auto& h) { h.gso_type = v::kNetHdrGsoUdp; })});
  cases.push_back({"unknown gso type", BadHdr::kGsoUnknown, frame,
                   with([](auto& h) { h.gso_type = 2; })});
  cases.push_back({"gso without csum", BadHdr::kGsoWithoutCsum, frame,
                   with([](auto& h) { h.flags = 0; })});
  cases.push_back({"gso_size 0", BadHdr::kGsoSize, frame, with([](auto& h) { h.gso_size = 0; })});
  cases.push_back({"gso_size > payload", BadHdr::kGsoSize, frame,
                   with([](auto& h) { h.gso_size = 20001; })});
  cases.push_back({"hdr_len beyond frame", BadHdr::kHdrLen, frame,
                   with([&](auto& h) { h.hdr_len = static_cast<uint16_t>(frame.size() + 1); })});
  cases.push_back({"csum beyond frame", BadHdr::kCsumRange, frame, with([&](auto& h) {
                     h.gso_type = 0;
                     h.csum_start = static_cast<uint16_t>(frame.size() - 10);
                   })});
  cases.push_back({"tcpv4 on udp", BadHdr::kGsoMismatch, offload_frame(udp),
                   with([](auto& h) { h.csum_offset = 6; })});
  cases.push_back({"tcpv4 on ipv6", BadHdr::kGsoMismatch, offload_frame(s6),
                   with([&](auto& h) { h.csum_start = uvs::netback::test::l4_offset(s6); })});

  uint64_t expect[uvs::netback::kBadHdrReasons] = {};
  for (const Case& k : cases) {
    CAPTURE(k.name);
    REQUIRE(send_one(victim, k.frame, k.hdr) == 1);
    ++expect[static_cast<size_t>(k.reason)];
    CHECK(wait_for([&] {
      return be.stats(0).total.in_drop_bad_hdr[static_cast<size_t>(k.reason)] ==
             expect[static_cast<size_t>(k.reason)];
    }));
    CHECK(be.state(0) == PortState::kUp);
    // The other ports keep forwarding, and the victim's next good frame goes through.
    auto plain_frame = uvs::frontend::test::test_frame(2, 7);
    REQUIRE(send_one(b, plain_frame, {}) == 1);
    auto at_c = receive(c, 1);
    REQUIRE(at_c.size() == 1);
    CHECK(at_c[0].bytes == plain_frame);
    receive(victim, 1, 200);
    REQUIRE(send_one(victim, frame, good) == 1);
    auto at_b = receive(b, 1);
    REQUIRE(at_b.size() == 1);
    CHECK(at_b[0].bytes == frame);
    CHECK(at_b[0].hdr.gso_type == v::kNetHdrGsoTcpV4);
  }
  // A guest that did not ack CSUM sends a partial checksum: dropped at its own port.
  OffloadFrameSpec small = s;
  small.payload = 200;
  REQUIRE(send_one(c, offload_frame(small), offload_hdr(small, 0)) == 1);
  CHECK(wait_for([&] {
    return be.stats(2).total.in_drop_bad_hdr[static_cast<size_t>(BadHdr::kCsumNotNegotiated)] == 1;
  }));
  auto t = be.stats(0).total;
  CHECK(t.in_drop_bad_hdr_total() == cases.size());
  CHECK(t.in_tso4 == cases.size());  // the good frames after each bad one
  CHECK(be.stats(0).protocol_errors == 0);
  CHECK(be.stats(2).protocol_errors == 0);
  CHECK(be.state(2) == PortState::kUp);
}
