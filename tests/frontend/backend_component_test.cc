// SPDX-License-Identifier: MIT
// Component tests: the in-repo frontend drives VhostUserNetPort in-process — traffic, roles, faults.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/frontend/backend_harness.h"

namespace v = uvs::netback::virtio;
using uvs::frontend::Fault;
using uvs::frontend::FaultTarget;
using uvs::frontend::FrontendOptions;
using uvs::frontend::MemoryMode;
using uvs::frontend::RxLayout;
using uvs::frontend::TxLayout;
using uvs::frontend::VhostFrontend;
using uvs::frontend::test::BackendHarness;
using uvs::frontend::test::in_layout;
using uvs::frontend::test::receive_n;
using uvs::frontend::test::send_all;
using uvs::frontend::test::test_frame;
using uvs::port::PortState;

namespace {

std::vector<std::vector<uint8_t>> frames_from(uint8_t id, size_t n, uint32_t first_seq = 0, uint32_t len = 60) {
  std::vector<std::vector<uint8_t>> f;
  for (size_t i = 0; i < n; ++i) f.push_back(test_frame(id, first_seq + static_cast<uint32_t>(i), len));
  return f;
}

// Every frame sent must arrive, byte for byte; order is kept within one queue pair.
void check_same(const std::vector<std::vector<uint8_t>>& sent, std::vector<std::vector<uint8_t>> got,
                bool ordered) {
  REQUIRE(got.size() == sent.size());
  if (!ordered) {
    std::sort(got.begin(), got.end());
    auto s = sent;
    std::sort(s.begin(), s.end());
    CHECK(got == s);
  } else {
    for (size_t i = 0; i < sent.size(); ++i) CHECK(got[i] == sent[i]);
  }
}

// Sends `n` frames from `a` to `b` and from `b` to `a` and checks both sides got them all. The
// frames go in chunks the receiver's RX ring can hold: the backend drops, as a switch port must,
// what arrives while the guest has no buffers.
void exchange(VhostFrontend& a, uint8_t a_id, VhostFrontend& b, uint8_t b_id, size_t n, uint32_t len = 60,
              uint32_t pair = 0) {
  constexpr size_t kChunk = 16;
  for (int dir = 0; dir < 2; ++dir) {
    VhostFrontend& from = dir == 0 ? a : b;
    VhostFrontend& to = dir == 0 ? b : a;
    auto frames = frames_from(dir == 0 ? a_id : b_id, n, dir == 0 ? 0 : 100000, len);
    std::vector<std::vector<uint8_t>> got;
    for (size_t at = 0; at < n; at += kChunk) {
      std::vector<std::vector<uint8_t>> chunk(frames.begin() + at, frames.begin() + std::min(n, at + kChunk));
      REQUIRE(send_all(from, chunk, pair) == chunk.size());
      auto part = receive_n(to, chunk.size());
      REQUIRE(part.size() == chunk.size());
      got.insert(got.end(), part.begin(), part.end());
    }
    check_same(frames, got, to.queue_pair_count() == 1);
  }
}

struct Preset {
  const char* name;
  FrontendOptions opts;
  uint32_t frame_len;
};

std::vector<Preset> presets() {
  std::vector<Preset> p;
  p.push_back({"default (single desc, EVENT_IDX, MRG_RXBUF, 2 regions)", {}, 60});
  FrontendOptions o;
  o.tx_layout = TxLayout::kHeaderSeparate;
  o.rx_layout = RxLayout::kHeaderSeparate;
  p.push_back({"header in its own descriptor", o, 1514});
  o = {};
  o.tx_layout = TxLayout::kScatter;
  o.rx_buf_len = 256;  // frames span several mergeable buffers
  p.push_back({"scattered TX, mergeable small RX buffers", o, 1514});
  o = {};
  o.tx_layout = TxLayout::kIndirect;
  o.rx_layout = RxLayout::kIndirect;
  p.push_back({"indirect tables both ways", o, 900});
  o = {};
  o.features &= ~(v::feature_bit(v::feature::kRingEventIdx) | v::feature_bit(v::feature::kNetMrgRxbuf));
  p.push_back({"no EVENT_IDX, no MRG_RXBUF", o, 1514});
  o = {};
  o.memory_mode = MemoryMode::kAddMemReg;
  o.second_region = true;
  p.push_back({"ADD_MEM_REG", o, 200});
  o = {};
  o.second_region = false;
  o.queue_size = 1024;
  p.push_back({"one region, 1024-entry rings", o, 60});
  o = {};
  o.rx_buf_len = 1024;
  o.tx_buf_len = 9018 + 12;
  p.push_back({"jumbo frames over mergeable buffers", o, 9018});
  o = {};
  o.features &= ~v::feature_bit(v::feature::kVhostUserProtocolFeatures);
  p.push_back({"no protocol features (rings enabled by kick)", o, 60});
  return p;
}

// What a backend port does about each fault.
enum class Outcome {
  kBroken,        ///< PortState::kBroken, protocol_errors counted, connection dropped
  kDisconnected,  ///< a plain hang-up: PortState::kDown, no protocol error
  kRefused,       ///< the request is answered with a REPLY_ACK failure; the session goes on
  kChainDropped,  ///< the one chain is returned unused and counted; the ring stays usable
  kEchoed,        ///< nothing the device can see: the chain is used and returned as it came
};

// The policy this suite holds the backend to. Everything that breaks the ring or the protocol is
// fatal for the port, as in QEMU (virtio_error() -> vdev->broken) and libvhost-user (vu_panic):
// that includes zero-sized buffers ("zero sized buffers are not allowed") and RX chains without a
// device-writable buffer ("receive queue contains no in buffers"). Two faults are milder:
Outcome expected_outcome(Fault f) {
  switch (f) {
    // EOF mid-message is indistinguishable from a frontend crashing while writing: a hang-up.
    case Fault::kDisconnectMidHeader:
    case Fault::kDisconnectMidPayload:
      return Outcome::kDisconnected;
    // vhost-user.rst (REPLY_ACK): the back-end answers a request it cannot handle with a non-zero
    // status; a newer frontend's request must not kill the device.
    case Fault::kUnknownRequest:
      return Outcome::kRefused;
    // A packed ring's buffer id is the driver's own tag (§2.7 "Next Flag: Descriptor Chaining"):
    // the device returns it unread; it is the driver that counts an id it never lent.
    case Fault::kPackedBadId:
      return Outcome::kEchoed;
    default:
      return Outcome::kBroken;
  }
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

TEST_CASE("frames flow both ways between two backend ports, in every ring layout") {
  for (const bool packed : {false, true})
  for (const Preset& p : presets()) {
    const std::string preset = p.name;
    CAPTURE(packed);
    CAPTURE(preset);
    BackendHarness be(2);
    REQUIRE_MESSAGE(be.start_error().empty(), be.start_error());
    const FrontendOptions o = in_layout(p.opts, packed);
    VhostFrontend a(o), b(o);
    auto sa = a.connect(be.path(0));
    REQUIRE_MESSAGE(sa.ok(), sa.to_string());
    auto sb = b.connect(be.path(1));
    REQUIRE_MESSAGE(sb.ok(), sb.to_string());
    CHECK(a.has_feature(v::feature::kRingPacked) == packed);
    CHECK(a.queue_pair(0).tx().packed() == packed);
    REQUIRE(be.wait_state(0, PortState::kUp, 2000));
    REQUIRE(be.wait_state(1, PortState::kUp, 2000));
    exchange(a, 1, b, 2, 300, p.frame_len);
    auto s0 = be.stats(0);
    auto s1 = be.stats(1);
    CHECK(s0.total.in_frames == 300);
    CHECK(s0.total.out_frames == 300);
    CHECK(s1.total.in_frames == 300);
    CHECK(s1.total.out_frames == 300);
    CHECK(s0.protocol_errors == 0);
    CHECK(a.stats().queues.rx_bad == 0);
    CHECK(a.stats().queues.bad_used == 0);
    CHECK(a.flush_tx(2000));
    CHECK(a.disconnect().ok());
    CHECK(b.disconnect().ok());
  }
}

TEST_CASE("multiqueue: traffic on the second queue pair arrives") {
  BackendHarness be(2, uvs::netback::SocketRole::kServer, 2);
  REQUIRE(be.start_error().empty());
  FrontendOptions o;
  o.queue_pairs = 2;
  VhostFrontend a(o), b(o);
  auto s = a.connect(be.path(0));
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  REQUIRE(b.connect(be.path(1)).ok());
  CHECK(a.backend_queue_num() >= 2);
  exchange(a, 1, b, 2, 200, 60, 1);
  exchange(a, 1, b, 2, 200, 60, 0);
}

TEST_CASE("TX rings with no kick fd are polled by the backend's loop") {
  BackendHarness be(2);
  REQUIRE(be.start_error().empty());
  FrontendOptions o;
  o.tx_kick_nofd = true;
  VhostFrontend a(o), b(o);
  REQUIRE(a.connect(be.path(0)).ok());
  REQUIRE(b.connect(be.path(1)).ok());
  REQUIRE(be.wait_state(0, PortState::kUp, 2000));
  REQUIRE(be.wait_state(1, PortState::kUp, 2000));
  exchange(a, 1, b, 2, 200, 60);
  // After a silence longer than the idle re-check bound, the first frame still gets through.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  exchange(a, 1, b, 2, 16, 60);
  CHECK(be.stats(0).total.in_frames == 216);
  CHECK(be.stats(1).total.in_frames == 216);
  CHECK(a.disconnect().ok());
  CHECK(b.disconnect().ok());
}

TEST_CASE("backend in client mode connects to a listening frontend") {
  VhostFrontend a, b;
  {
    // The ports start first and retry until the frontends listen (QEMU server=on, wait=off).
    BackendHarness be(2, uvs::netback::SocketRole::kClient);
    REQUIRE(a.listen(be.path(0)).ok());
    REQUIRE(b.listen(be.path(1)).ok());
    auto s = a.accept(3000);
    REQUIRE_MESSAGE(s.ok(), s.to_string());
    REQUIRE(b.accept(3000).ok());
    REQUIRE(be.wait_state(0, PortState::kUp, 2000));
    exchange(a, 1, b, 2, 100);
    // The frontend goes away, listener and all; the port reconnects to the next one listening at
    // the same path.
    a.close();
    a.stop_listening();
    REQUIRE(be.wait_state(0, PortState::kDown, 2000));
    VhostFrontend a2;
    REQUIRE(a2.listen(be.path(0)).ok());
    REQUIRE(a2.accept(3000).ok());
    REQUIRE(be.wait_state(0, PortState::kUp, 2000));
    exchange(a2, 3, b, 2, 100);
    a2.close();
    b.close();
  }
}

TEST_CASE("backend in client mode comes back to the same listening frontend") {
  // QEMU with server=on keeps its listener; a backend that drops the connection reconnects.
  BackendHarness be(2, uvs::netback::SocketRole::kClient);
  VhostFrontend a, b;
  REQUIRE(a.listen(be.path(0)).ok());
  REQUIRE(b.listen(be.path(1)).ok());
  REQUIRE(a.accept(3000).ok());
  REQUIRE(b.accept(3000).ok());
  // A fault makes the port drop us; it then reconnects to our listener by itself.
  REQUIRE(a.inject(Fault::kDescOutOfMemory).ok());
  REQUIRE(be.wait_state(0, PortState::kBroken, 2000));
  auto s = a.accept(3000);
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  REQUIRE(be.wait_state(0, PortState::kUp, 2000));
  exchange(a, 1, b, 2, 50);
  CHECK(be.stats(0).connections == 2);
}

TEST_CASE("a frontend that reconnects gets a working port again") {
  for (const bool packed : {false, true}) {
    CAPTURE(packed);
    BackendHarness be(2);
    const FrontendOptions o = in_layout({}, packed);
    VhostFrontend a(o), b(o);
    REQUIRE(a.connect(be.path(0)).ok());
    REQUIRE(b.connect(be.path(1)).ok());
    exchange(a, 1, b, 2, 50);
    std::vector<uint16_t> bases;
    REQUIRE(a.disconnect(&bases).ok());
    REQUIRE(bases.size() == 2);
    // The TX ring consumed exactly what we sent (a packed position has the wrap counter, still
    // 1, in bit 15).
    CHECK(bases[1] == (packed ? 0x8000 | 50 : 50));
    REQUIRE(be.wait_state(0, PortState::kDown, 2000));
    REQUIRE(a.connect(be.path(0)).ok());  // same frontend object: rings restart at 0
    exchange(a, 1, b, 2, 50);
    CHECK(a.stats().sessions == 2);
  }
}

TEST_CASE("a reconnecting frontend resumes its rings at the exact bases, across a ring wrap") {
  // QEMU keeps the guest's rings when a backend goes away and gives the next session the bases
  // GET_VRING_BASE returned (vhost-user.rst "Starting and stopping rings"); with 64-entry rings
  // and 100 frames each way the packed wrap counters have flipped, so bit 15 must round-trip.
  for (const bool packed : {false, true}) {
    CAPTURE(packed);
    BackendHarness be(2);
    FrontendOptions o = in_layout({}, packed);
    o.queue_size = 64;
    VhostFrontend a(o), b(o);
    REQUIRE(a.connect(be.path(0)).ok());
    REQUIRE(b.connect(be.path(1)).ok());
    exchange(a, 1, b, 2, 100);
    REQUIRE(a.flush_tx(2000));
    const uint16_t tx_pos = a.queue_pair(0).tx().avail_idx();
    std::vector<uint16_t> bases;
    REQUIRE(a.disconnect(&bases).ok());
    REQUIRE(bases.size() == 2);
    // TX: every frame consumed, so the device stopped where the driver will write next. RX:
    // 100 buffers consumed, one per frame.
    CHECK(bases[1] == tx_pos);
    CHECK(bases[0] == (packed ? (100 - 64) /* wrap counter 0 */ : 100));
    CHECK(bases[1] == (packed ? (100 - 64) : 100));
    REQUIRE(be.wait_state(0, PortState::kDown, 2000));
    auto s = a.reconnect(be.path(0), bases);
    REQUIRE_MESSAGE(s.ok(), s.to_string());
    REQUIRE(be.wait_state(0, PortState::kUp, 2000));
    exchange(a, 1, b, 2, 100);
    CHECK(a.stats().queues.bad_used == 0);
    CHECK(a.stats().queues.rx_bad == 0);
    CHECK(be.stats(0).protocol_errors == 0);
    std::vector<uint16_t> again;
    REQUIRE(a.disconnect(&again).ok());
    // 200 of each on 64 entries: index 8 on the fourth lap (wrap counter 0 again for packed).
    CHECK(again[1] == (packed ? 200 - 3 * 64 : 200));
    CHECK(again[0] == (packed ? 200 - 3 * 64 : 200));
  }
}

TEST_CASE("every fault is contained to the port it hits; the others keep forwarding") {
  for (const bool packed : {false, true})
  for (const auto& info : uvs::frontend::all_faults()) {
    if (!uvs::frontend::fault_applies(info, packed)) continue;
    // The control-message faults do not depend on the ring layout, but for the ring addresses.
    if (packed && info.target == FaultTarget::kControl && info.fault != Fault::kRingAddrOutOfMemory) continue;
    const std::string fault = info.name;
    CAPTURE(packed);
    CAPTURE(fault);
    BackendHarness be(3);
    REQUIRE(be.start_error().empty());
    const FrontendOptions o = in_layout({}, packed);
    // A backend must refuse an indirect table it cannot use; keep INDIRECT negotiated.
    VhostFrontend victim(o), b(o), c(o);
    REQUIRE(victim.connect(be.path(0)).ok());
    REQUIRE(b.connect(be.path(1)).ok());
    REQUIRE(c.connect(be.path(2)).ok());
    for (size_t i = 0; i < 3; ++i) REQUIRE(be.wait_state(i, PortState::kUp, 2000));
    // Warm-up: the victim's traffic flows before it misbehaves.
    auto warm = frames_from(9, 8);
    REQUIRE(send_all(victim, warm) == 8);
    check_same(warm, receive_n(b, 8), true);
    check_same(warm, receive_n(c, 8), true);

    auto s = victim.inject(info.fault);
    REQUIRE_MESSAGE(s.ok(), s.to_string());
    if (info.target == FaultTarget::kRxRing) {
      // The RX faults bite when the backend next delivers to the victim.
      auto poke = frames_from(2, 4, 500);
      send_all(b, poke);
      check_same(poke, receive_n(c, 4), true);
    }
    switch (expected_outcome(info.fault)) {
      case Outcome::kBroken:
        CHECK(be.wait_state(0, PortState::kBroken, 2000));
        CHECK(be.stats(0).protocol_errors == 1);
        if (!info.closes_socket) CHECK(victim.wait_backend_closed(2000));
        break;
      case Outcome::kDisconnected:
        CHECK(be.wait_state(0, PortState::kDown, 2000));
        CHECK(be.stats(0).protocol_errors == 0);
        CHECK(be.stats(0).disconnects == 1);
        break;
      case Outcome::kRefused:
        CHECK(wait_for([&] { return be.stats(0).rejected_requests == 1; }));
        CHECK(be.state(0) == PortState::kUp);
        break;
      case Outcome::kEchoed: {
        // The frame went out to both healthy ports; its used descriptor came back with the id
        // it carried, which the driver counts as one it never lent, and the port stays up.
        auto& tx = victim.queue_pair(0);
        CHECK(wait_for([&] {
          tx.reap_tx();
          return tx.stats().bad_used == 1;
        }));
        CHECK(receive_n(b, 1).size() == 1);
        CHECK(receive_n(c, 1).size() == 1);
        CHECK(be.state(0) == PortState::kUp);
        CHECK(be.stats(0).protocol_errors == 0);
        break;
      }
      case Outcome::kChainDropped:
        CHECK(wait_for([&] {
          auto t = be.stats(0).total;
          return t.in_drop_bad_chain + t.out_drop_bad_chain != 0;
        }));
        CHECK(be.state(0) == PortState::kUp);
        CHECK(be.stats(0).protocol_errors == 0);
        break;
    }

    // The healthy ports never noticed.
    CHECK(be.state(1) == PortState::kUp);
    CHECK(be.state(2) == PortState::kUp);
    CHECK(be.stats(1).protocol_errors == 0);
    exchange(b, 2, c, 3, 64);

    // The broken port takes the next frontend and works again.
    victim.close();
    VhostFrontend again(o);
    auto s2 = again.connect(be.path(0));
    REQUIRE_MESSAGE(s2.ok(), s2.to_string());
    REQUIRE(be.wait_state(0, PortState::kUp, 2000));
    auto after = frames_from(7, 16);
    REQUIRE(send_all(again, after) == 16);
    check_same(after, receive_n(b, 16), true);
  }
}
