// SPDX-License-Identifier: MIT
// Bridge component tests for a port spread over several threads (lanes): one FDB identity, one
// copy per flood, per-flow order, local lanes preferred, summed counters, control errors.
#include <doctest/doctest.h>
#include <fcntl.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "port/flow_hash.h"
#include "switch/bridge.h"
#include "tests/switch/bridge_rig.h"

namespace uvs::bridge {
namespace {

using test::BridgeRig;
using test::Bytes;
using test::FakePort;
using test::mac;
using test::make_frame;
using test::wait_until;

/// An IPv4/UDP frame from `src` to `dst` whose flow is `flow` (the UDP source port) and whose
/// payload starts with the sequence number `seq`.
Bytes udp_frame(const MacAddr& dst, const MacAddr& src, uint16_t flow, uint32_t seq) {
  Bytes f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  const uint8_t ip[20] = {0x45, 0, 0, 46, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
  f.push_back(0x08);
  f.push_back(0x00);
  f.insert(f.end(), ip, ip + 20);
  const uint8_t udp[8] = {uint8_t(flow >> 8), uint8_t(flow), 0x13, 0x88, 0, 26, 0, 0};
  f.insert(f.end(), udp, udp + 8);
  for (int k = 3; k >= 0; --k) f.push_back(uint8_t(seq >> (8 * k)));
  f.resize(14 + 46, 0);
  return f;
}

uint16_t flow_of(const Bytes& f) { return uint16_t(f[34] << 8 | f[35]); }
uint32_t seq_of(const Bytes& f) {
  return uint32_t(f[42]) << 24 | uint32_t(f[43]) << 16 | uint32_t(f[44]) << 8 | f[45];
}

// Port m has lanes on threads 1 and 2; a on thread 0 (no lane of m there), b on thread 1.
struct LaneRig : BridgeRig {
  LaneRig() : BridgeRig(3) {
    a = &add("a", 0);
    b = &add("b", 1);
    for (unsigned t : {1u, 2u}) {
      ports.push_back(std::make_unique<FakePort>("m" + std::to_string(t), pt.loop(t)));
      lanes.push_back(ports.back().get());
    }
    const PortLaneSpec spec[] = {{lanes[0], 1}, {lanes[1], 2}};
    PortOptions o;
    o.name = "m";
    auto r = bridge->add_port(spec, o);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    m = *r;
    // Every station announces itself once (m from its second lane).
    a->inject_sync({make_frame(test::kBroadcast, mac(0xa), 46)});
    b->inject_sync({make_frame(test::kBroadcast, mac(0xb), 46)});
    lanes[1]->inject_sync({make_frame(test::kBroadcast, mac(0xc), 46)});
    quiesce();
  }
  size_t m_count() { return lanes[0]->count() + lanes[1]->count(); }

  FakePort* a = nullptr;
  FakePort* b = nullptr;
  std::vector<FakePort*> lanes;
  PortIndex m = 0;
};

TEST_CASE("bridge lanes: one FDB identity and one copy of each flooded frame") {
  LaneRig r;
  // a's and b's broadcasts reached m once each, over its lanes together; m's reached a and b.
  CHECK(r.m_count() == 2);
  CHECK(r.a->count() == 2);
  CHECK(r.b->count() == 2);
  auto fdb = r.bridge->fdb_dump();
  bool found = false;
  for (const FdbRecord& e : fdb) {
    if (e.mac == mac(0xc)) {
      found = true;
      CHECK(e.port == r.m);
    }
  }
  CHECK(found);
  // A frame from m's other lane to a station behind m itself is filtered, not forwarded.
  r.lanes[0]->inject_sync({make_frame(mac(0xc), mac(0xd), 46)});
  r.quiesce();
  CHECK(r.m_count() == 2);
  PortStats s = r.port_stats(0);  // a
  for (const PortStats& p : r.bridge->stats().ports) {
    if (p.index == r.m) s = p;
  }
  CHECK(s.lane_threads == std::vector<unsigned>{1, 2});
  CHECK(s.in_frames == 2);  // one per lane, summed
  CHECK(s.drop_filtered == 1);
  CHECK(!r.lanes[0]->wrong_thread());
  CHECK(!r.lanes[1]->wrong_thread());
}

TEST_CASE("bridge lanes: a sender on a lane's thread uses that lane for every flow") {
  LaneRig r;
  r.clear_all();
  const uint64_t ring_before = r.thread_sum(&ThreadStats::ring_out);
  std::vector<Bytes> frames;
  for (uint16_t flow = 0; flow < 32; ++flow) frames.push_back(udp_frame(mac(0xc), mac(0xb), flow, 0));
  r.b->inject_sync(frames);
  r.quiesce();
  CHECK(r.lanes[0]->count() == 32);  // thread 1, b's thread
  CHECK(r.lanes[1]->count() == 0);
  CHECK(r.thread_sum(&ThreadStats::ring_out) == ring_before);
}

TEST_CASE("bridge lanes: flows from another thread spread over the lanes, each in order") {
  LaneRig r;
  r.clear_all();
  constexpr uint16_t kFlows = 64;
  constexpr uint32_t kPerFlow = 40;
  for (uint32_t seq = 0; seq < kPerFlow; ++seq) {
    std::vector<Bytes> burst;
    for (uint16_t flow = 0; flow < kFlows; flow += 2) {
      burst.push_back(udp_frame(mac(0xc), mac(0xa), flow + (seq % 2), seq));
    }
    r.a->inject_sync(burst);
    if (seq % 8 == 7) r.quiesce();
  }
  const size_t total = size_t(kFlows / 2) * kPerFlow;
  REQUIRE(wait_until([&] { return r.m_count() == total; }));
  std::map<uint16_t, int> lane_of;
  std::map<uint16_t, uint32_t> next;
  for (int l = 0; l < 2; ++l) {
    for (const Bytes& f : r.lanes[size_t(l)]->received()) {
      const uint16_t flow = flow_of(f);
      auto [it, fresh] = lane_of.emplace(flow, l);
      CHECK_MESSAGE(it->second == l, "flow " << flow << " arrived on both lanes");
      // Frames of a flow arrive in the order sent: sequence numbers rise by two.
      const uint32_t want = fresh ? (flow % 2) : next[flow];
      CHECK(seq_of(f) == want);
      next[flow] = seq_of(f) + 2;
    }
  }
  CHECK(lane_of.size() == kFlows);
  std::set<int> used;
  for (auto& [flow, l] : lane_of) used.insert(l);
  CHECK(used.size() == 2);
  CHECK(r.thread_sum(&ThreadStats::drop_ring_full) == 0);
}

TEST_CASE("bridge lanes: pick_threads counts each lane, fewest first, lowest index on ties") {
  LaneRig r;  // thread 0: a; thread 1: b and a lane of m; thread 2: a lane of m
  CHECK(r.bridge->pick_threads(2) == std::vector<unsigned>{0, 2});
  CHECK(r.bridge->pick_threads(9) == std::vector<unsigned>{0, 2, 1});
  CHECK(r.bridge->pick_threads(0) == std::vector<unsigned>{0});
  CHECK(r.bridge->pick_thread() == 0);
}

TEST_CASE("bridge lanes: control errors and removal") {
  BridgeRig r(2);
  FakePort p0("x0", r.pt.loop(0)), p1("x1", r.pt.loop(0)), p2("x2", r.pt.loop(1));
  const PortLaneSpec same[] = {{&p0, 0}, {&p1, 0}};
  auto bad = r.bridge->add_port(same);
  REQUIRE(!bad.ok());
  CHECK(bad.error().code == BridgeError::kBadLanes);
  CHECK(!r.bridge->add_port(std::span<const PortLaneSpec>{}).ok());
  const PortLaneSpec far[] = {{&p0, 0}, {&p2, 7}};
  auto bad_thread = r.bridge->add_port(far);
  REQUIRE(!bad_thread.ok());
  CHECK(bad_thread.error().code == BridgeError::kBadThread);

  const PortLaneSpec good[] = {{&p0, 0}, {&p2, 1}};
  PortOptions o;
  o.name = "x";
  auto idx = r.bridge->add_port(good, o);
  REQUIRE(idx.ok());
  CHECK(r.bridge->pick_thread() == 0);  // both threads host one lane; lowest index on ties
  CaptureOptions co;
  co.port = "x";
  co.stream_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  std::string err;
  auto cap = Capture::create(co, &err);
  REQUIRE_MESSAGE(cap, err);
  auto c = r.bridge->attach_capture("x", *cap);
  REQUIRE(!c.ok());
  CHECK(c.error().code == BridgeError::kNotSupported);
  CHECK(r.bridge->remove_port(*idx));
  // The same Port objects can be attached again once removed; removed again before they go
  // out of scope (they are declared after the bridge, so they die first).
  auto again = r.bridge->add_port(good, o);
  REQUIRE(again.ok());
  CHECK(r.bridge->remove_port(*again));
}

TEST_CASE("flow_hash: equal for a flow, differs across flows, safe on short frames") {
  Bytes f1 = udp_frame(mac(1), mac(2), 7, 0), f2 = udp_frame(mac(1), mac(2), 7, 99);
  Bytes f3 = udp_frame(mac(1), mac(2), 8, 0);
  auto hash = [](const Bytes& b) {
    iovec v{const_cast<uint8_t*>(b.data()), b.size()};
    return port::flow_hash(port::Frame{&v, 1, uint32_t(b.size())});
  };
  CHECK(hash(f1) == hash(f2));
  CHECK(hash(f1) != hash(f3));
  for (size_t n = 0; n < f1.size(); ++n) {
    Bytes cut(f1.begin(), f1.begin() + long(n));
    (void)hash(cut);  // reads only what is there (ASan checks)
  }
}

}  // namespace
}  // namespace uvs::bridge
