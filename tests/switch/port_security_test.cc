// SPDX-License-Identifier: MIT
// Port security tests: the FDB's per-port limit, the storm-control token bucket, and the bridge
// applying max-macs, allowed-mac and bum-rate, with a full FDB that keeps known traffic flowing.
#include <doctest/doctest.h>

#include <vector>

#include "switch/bridge.h"
#include "switch/fdb.h"
#include "switch/port_guard.h"
#include "tests/switch/bridge_rig.h"

namespace uvs::bridge {
namespace {

using test::BridgeRig;
using test::Bytes;
using test::FakePort;
using test::make_frame;
using test::mac;
using test::wait_until;

constexpr int64_t kSec = 1'000'000'000;

TEST_CASE("fdb: a port's limit refuses new and moving-in MACs, never evicts") {
  Fdb fdb(64, 8);
  CHECK(fdb.learn(1, mac(1).data(), 3, 0, 2) == LearnResult::kLearned);
  CHECK(fdb.learn(1, mac(2).data(), 3, 0, 2) == LearnResult::kLearned);
  CHECK(fdb.port_entries(3) == 2);
  CHECK(fdb.learn(1, mac(3).data(), 3, 0, 2) == LearnResult::kLimited);
  CHECK(fdb.lookup(1, mac(3).data()) == kNoPort);
  // Known sources of the port still refresh; the limit is per port.
  CHECK(fdb.learn(1, mac(1).data(), 3, 5, 2) == LearnResult::kRefreshed);
  CHECK(fdb.learn(1, mac(3).data(), 4, 0, 2) == LearnResult::kLearned);
  // A MAC of another port cannot be pulled onto the full port either.
  CHECK(fdb.learn(1, mac(3).data(), 3, 0, 2) == LearnResult::kLimited);
  CHECK(fdb.lookup(1, mac(3).data()) == 4);
  // The same MAC in another VLAN is another entry.
  CHECK(fdb.learn(2, mac(1).data(), 3, 0, 2) == LearnResult::kLimited);
  // Moves and removals keep the counts.
  CHECK(fdb.learn(1, mac(2).data(), 4, 0) == LearnResult::kMoved);
  CHECK(fdb.port_entries(3) == 1);
  CHECK(fdb.port_entries(4) == 2);
  CHECK(fdb.learn(1, mac(5).data(), 3, 0, 2) == LearnResult::kLearned);
  CHECK(fdb.flush_port(3) == 2);
  CHECK(fdb.port_entries(3) == 0);
  fdb.set_aging_ns(10);
  CHECK(fdb.age(100) == 2);
  CHECK(fdb.port_entries(4) == 0);
  CHECK(fdb.size() == 0);
}

TEST_CASE("token bucket: a depth of max(rate/10, 16) frames, refilled at the rate") {
  TokenBucket b;
  CHECK(b.admit(0));  // unlimited until configured
  b.configure(100);
  int64_t t = 1000 * kSec;
  int n = 0;
  while (b.admit(t)) ++n;
  CHECK(n == 16);  // 100/10 is less than the smallest depth
  t += kSec / 10;  // 10 more tokens
  n = 0;
  while (b.admit(t)) ++n;
  CHECK(n == 10);
  t += 3600 * kSec;  // a long idle spell fills it, and no more
  n = 0;
  while (b.admit(t)) ++n;
  CHECK(n == 16);
  b.configure(1'000'000);
  n = 0;
  while (b.admit(t)) ++n;
  CHECK(n == 100'000);
  t += kSec / 1000;
  n = 0;
  while (b.admit(t)) ++n;
  CHECK(n == 1000);
  CHECK_FALSE(b.admit(t - kSec));  // a clock that steps back adds nothing
}

PortOptions guarded(PortSecurityOptions sec) {
  PortOptions o;
  o.security = sec;
  return o;
}

// Frames from `count` different sources starting at `first`, to `dst`.
std::vector<Bytes> from_sources(const MacAddr& dst, uint16_t first, uint16_t count) {
  std::vector<Bytes> out;
  for (uint16_t i = 0; i < count; ++i) out.push_back(make_frame(dst, mac(first + i), 46));
  return out;
}

TEST_CASE("bridge: max-macs drops further sources and cannot evict or flood other ports' MACs") {
  BridgeRig r;
  PortSecurityOptions sec;
  sec.max_macs = 2;
  FakePort& a = r.add("a", 0);
  FakePort& b = r.add("b", 1);
  FakePort& bad = r.add("bad", 0, guarded(sec));
  a.inject_sync({make_frame(test::kBroadcast, mac(0xa), 46)});
  b.inject_sync({make_frame(test::kBroadcast, mac(0xb), 46)});
  r.quiesce();
  r.clear_all();
  // 100 sources in one burst-run, each a new MAC, plus an attempt to steal a's MAC.
  bad.inject_sync(from_sources(test::kBroadcast, 0x100, 100));
  bad.inject_sync({make_frame(test::kBroadcast, mac(0xa), 46)});
  r.quiesce();
  CHECK(r.bridge->fdb().port_entries(r.index[2]) == 2);
  CHECK(r.port_stats(2).drop_max_macs == 99);
  CHECK(r.bridge->fdb().lookup(1, mac(0xa).data()) == r.index[0]);
  CHECK(a.count() == 2);  // the two admitted sources' broadcasts
  CHECK(b.count() == 2);
  // a and b still reach each other directly; bad sees none of it.
  r.clear_all();
  a.inject_sync({make_frame(mac(0xb), mac(0xa), 60)});
  b.inject_sync({make_frame(mac(0xa), mac(0xb), 60)});
  REQUIRE(wait_until([&] { return a.count() == 1 && b.count() == 1; }));
  r.quiesce();
  CHECK(bad.count() == 0);
  // The admitted sources keep working, and a flush gives the port its budget back.
  bad.inject_sync({make_frame(mac(0xa), mac(0x100), 60), make_frame(mac(0xa), mac(0x101), 60)});
  REQUIRE(wait_until([&] { return a.count() == 3; }));
  CHECK(r.bridge->flush_fdb_port(r.index[2]) == 2);
  bad.inject_sync({make_frame(mac(0xa), mac(0x200), 60)});
  REQUIRE(wait_until([&] { return a.count() == 4; }));
  CHECK(r.bridge->fdb().lookup(1, mac(0x200).data()) == r.index[2]);
  // Group and zero sources cannot be counted, so a limited port drops them.
  const uint64_t before = r.port_stats(2).drop_max_macs;
  bad.inject_sync({make_frame(mac(0xa), test::kMulticast, 60),
                   make_frame(mac(0xa), MacAddr{}, 60)});
  r.quiesce();
  CHECK(r.port_stats(2).drop_max_macs == before + 2);
  CHECK(a.count() == 4);
}

TEST_CASE("bridge: allowed-mac passes only that source") {
  BridgeRig r;
  PortSecurityOptions sec;
  sec.allowed_mac = mac(0x42);
  FakePort& locked = r.add("locked", 0, guarded(sec));
  FakePort& other = r.add("other", 1);
  locked.inject_sync({make_frame(test::kBroadcast, mac(0x42), 46),
                      make_frame(test::kBroadcast, mac(0x43), 46),
                      make_frame(test::kBroadcast, mac(0x43), 46),
                      make_frame(mac(0x99), mac(0x44), 46)});
  REQUIRE(wait_until([&] { return other.count() == 1; }));
  r.quiesce();
  CHECK(other.count() == 1);
  CHECK(other.received()[0] == make_frame(test::kBroadcast, mac(0x42), 46));
  CHECK(r.port_stats(0).drop_allowed_mac == 3);
  CHECK(r.bridge->fdb().size() == 1);
  // Traffic toward the locked port is not affected.
  other.inject_sync({make_frame(mac(0x42), mac(0x50), 60)});
  REQUIRE(wait_until([&] { return locked.count() == 1; }));
}

TEST_CASE("bridge: bum-rate limits flooded frames, not learned unicast") {
  BridgeRig r;
  PortSecurityOptions sec;
  sec.bum_rate = 1;  // a depth of 16 frames, refilled at one a second: slow builds see no refill
  FakePort& noisy = r.add("noisy", 0, guarded(sec));
  FakePort& other = r.add("other", 1);
  other.inject_sync({make_frame(test::kBroadcast, mac(0xb), 46)});
  r.quiesce();
  std::vector<Bytes> storm;
  for (int i = 0; i < 30; ++i) storm.push_back(make_frame(test::kBroadcast, mac(0xa), 46));
  for (int i = 0; i < 30; ++i) storm.push_back(make_frame(test::kMulticast, mac(0xa), 46));
  for (int i = 0; i < 30; ++i) storm.push_back(make_frame(mac(0x77), mac(0xa), 46));  // unknown
  for (int i = 0; i < 30; ++i) storm.push_back(make_frame(mac(0xb), mac(0xa), 46));   // learned
  noisy.inject_sync(storm);
  r.quiesce();
  // The bucket refills by one frame a second: allow one for a slow machine.
  CHECK(other.count() >= 16 + 30);
  CHECK(other.count() <= 17 + 30);
  CHECK(r.port_stats(0).drop_bum_rate == 120 - other.count());
  // A port without the key is not limited.
  std::vector<Bytes> from_other(100, make_frame(test::kBroadcast, mac(0xb), 46));
  other.inject_sync(from_other);
  REQUIRE(wait_until([&] { return noisy.count() == 101; }));
  CHECK(r.port_stats(1).drop_bum_rate == 0);
}

TEST_CASE("bridge: a full FDB keeps forwarding known MACs and counts what it could not learn") {
  BridgeOptions o;
  o.fdb_capacity = 8;
  BridgeRig r(2, o);
  FakePort& a = r.add("a", 0);
  FakePort& b = r.add("b", 1);
  FakePort& flood = r.add("flood", 0);
  a.inject_sync({make_frame(test::kBroadcast, mac(0xa), 46)});
  b.inject_sync({make_frame(test::kBroadcast, mac(0xb), 46)});
  r.quiesce();
  flood.inject_sync(from_sources(test::kBroadcast, 0x100, 64));
  r.quiesce();
  CHECK(r.bridge->fdb().size() == 8);
  CHECK(r.port_stats(2).fdb_full > 0);
  CHECK(r.bridge->stats().fdb.full > 0);
  CHECK(r.bridge->fdb().lookup(1, mac(0xa).data()) == r.index[0]);
  CHECK(r.bridge->fdb().lookup(1, mac(0xb).data()) == r.index[1]);
  r.clear_all();
  for (int i = 0; i < 10; ++i) {
    a.inject_sync({make_frame(mac(0xb), mac(0xa), 60)});
    b.inject_sync({make_frame(mac(0xa), mac(0xb), 60)});
  }
  REQUIRE(wait_until([&] { return a.count() == 10 && b.count() == 10; }));
  r.quiesce();
  CHECK(flood.count() == 0);
}

}  // namespace
}  // namespace uvs::bridge
