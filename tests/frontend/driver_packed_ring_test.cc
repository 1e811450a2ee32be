// SPDX-License-Identifier: MIT
// DriverPackedRing: layout, flags and wrap counters, used descriptors by id, kick/interrupt rules.
#include <doctest/doctest.h>

#include <vector>

#include "netback/frontend/driver_virtqueue.h"

namespace v = uvs::netback::virtio;
using uvs::frontend::DescSegment;
using uvs::frontend::DriverPackedRing;
using uvs::frontend::DriverVirtqueue;
using uvs::frontend::GuestRam;
using uvs::frontend::RegionSpec;
using uvs::frontend::RingPlacement;
using uvs::frontend::UsedChain;

namespace {

struct Fixture {
  GuestRam ram;
  DriverVirtqueue dq;
  DriverPackedRing& q = dq.packed_ring();
  Fixture(uint32_t size, bool event_idx) {
    RegionSpec specs[] = {{0, 1 << 20, 0}, {uint64_t{1} << 32, 1 << 20, 0}};
    REQUIRE(ram.map(specs).ok());
    auto base = ram.alloc(DriverVirtqueue::footprint(size), 4096, 0);
    REQUIRE(base);
    REQUIRE(dq.init_packed(ram, size, *base, event_idx).ok());
  }
};

// The device's side, written from the spec alone: it takes chains where the driver made them
// available and writes used descriptors at its own position, skipping each chain's slots.
struct Device {
  DriverPackedRing& q;
  uint16_t avail = 0, used = 0;
  bool avail_wrap = true, used_wrap = true;

  void step(uint16_t* idx, bool* wrap, uint32_t n) const {
    for (uint32_t i = 0; i < n; ++i) {
      if (++*idx == q.size()) {
        *idx = 0;
        *wrap = !*wrap;
      }
    }
  }
  bool is_avail(uint16_t idx, bool wrap) const {
    const uint16_t f = q.ring()[idx].flags;
    return ((f & v::kPackedDescFAvail) != 0) == wrap && ((f & v::kPackedDescFUsed) != 0) != wrap;
  }
  // Takes the next chain: its id and how many slots it spans; false if none is available.
  bool pop(uint16_t* id, uint16_t* ndescs) {
    if (!is_avail(avail, avail_wrap)) return false;
    uint16_t n = 0;
    for (;;) {
      const v::PackedDesc d = q.ring()[avail];
      REQUIRE(is_avail(avail, avail_wrap));
      step(&avail, &avail_wrap, 1);
      ++n;
      if (!(d.flags & v::kDescFNext)) {
        *id = d.id;
        break;
      }
    }
    *ndescs = n;
    return true;
  }
  void push(uint16_t id, uint32_t len, uint16_t ndescs) {
    v::PackedDesc& d = q.ring()[used];
    d.id = id;
    d.len = len;
    d.flags = used_wrap ? (v::kPackedDescFAvail | v::kPackedDescFUsed) : 0;
    step(&used, &used_wrap, ndescs);
  }
};

}  // namespace

TEST_CASE("packed layout: ring, then the driver's and the device's event structures") {
  const RingPlacement p = DriverPackedRing::layout(0x10000, 256);
  CHECK(p.desc_gpa == 0x10000);
  CHECK(p.avail_gpa == 0x10000 + 16 * 256);
  CHECK(p.used_gpa == p.avail_gpa + 4);
  CHECK(DriverPackedRing::footprint(256) == 16 * 256 + 8);
  // A queue pair's ring memory is sized for the split layout and must hold either.
  for (uint32_t n : {1u, 8u, 256u, 32768u}) CHECK(DriverPackedRing::footprint(n) <= DriverVirtqueue::footprint(n));
  Fixture f(8, false);
  CHECK(f.dq.packed());
  CHECK(f.dq.avail_idx() == 0x8000);  // index 0, wrap counter 1
  CHECK(f.dq.last_used_idx() == 0x8000);
}

TEST_CASE("a chain's head becomes available only at publish, with one id in every descriptor") {
  Fixture f(8, false);
  DescSegment segs[3] = {{0x1000, 12, false}, {0x2000, 100, false}, {0x3000, 64, true}};
  const int32_t id = f.q.add_chain(segs, 77);
  REQUIRE(id >= 0);
  const v::PackedDesc* r = f.q.ring();
  CHECK(r[0].flags == 0);  // not yet
  CHECK(r[1].flags == (v::kDescFNext | v::kPackedDescFAvail));
  CHECK(r[2].flags == (v::kDescFWrite | v::kPackedDescFAvail));
  for (int i = 0; i < 3; ++i) CHECK(r[i].id == id);
  CHECK(r[1].addr == 0x2000);
  CHECK(r[2].len == 64);
  CHECK(f.q.free_count() == 5);
  CHECK(f.q.publish());  // device event ENABLE (zeroed)
  CHECK(r[0].flags == (v::kDescFNext | v::kPackedDescFAvail));
  CHECK(f.q.avail_pos() == (0x8000 | 3));
}

TEST_CASE("used descriptors come back out of order, each skipping its own chain's slots") {
  Fixture f(8, false);
  Device dev{f.q};
  DescSegment two[2] = {{0x1000, 12, false}, {0x1100, 60, false}};
  DescSegment one[1] = {{0x2000, 72, false}};
  DescSegment three[3] = {{0x3000, 5, false}, {0x3100, 7, false}, {0x3200, 60, false}};
  const int32_t a = f.q.add_chain(two, 100), b = f.q.add_chain(one, 200), c = f.q.add_chain(three, 300);
  REQUIRE((a >= 0 && b >= 0 && c >= 0));
  f.q.publish();
  uint16_t ids[3], ns[3];
  for (int i = 0; i < 3; ++i) REQUIRE(dev.pop(&ids[i], &ns[i]));
  CHECK(ns[0] == 2);
  CHECK(ns[1] == 1);
  CHECK(ns[2] == 3);
  // Completion order b, c, a: slots 0, 1 (+3), 4 (+2).
  dev.push(ids[1], 0, ns[1]);
  dev.push(ids[2], 0, ns[2]);
  CHECK(f.q.used_pending() == 2);
  dev.push(ids[0], 0, ns[0]);
  CHECK(f.q.used_pending() == 3);
  UsedChain u;
  REQUIRE(f.q.peek_used(2, &u));
  CHECK(u.token == 100);
  for (uint32_t want : {200u, 300u, 100u}) {
    REQUIRE(f.q.pop_used(&u));
    CHECK(u.token == want);
  }
  CHECK_FALSE(f.q.pop_used(&u));
  CHECK(f.q.free_count() == 8);
  CHECK(f.q.used_pos() == (0x8000 | 6));
  CHECK(f.q.bad_used() == 0);
}

TEST_CASE("wrap counters flip every lap on both sides, for many laps") {
  Fixture f(4, true);
  Device dev{f.q};
  DescSegment two[2] = {{0x1000, 12, false}, {0x1100, 60, false}};
  DescSegment one[1] = {{0x2000, 72, false}};
  uint32_t slots = 0;
  for (uint32_t round = 0; round < 40; ++round) {
    const bool pair = round % 3 == 0;
    REQUIRE(f.q.add_chain(pair ? std::span<const DescSegment>(two) : one, round) >= 0);
    f.q.publish();
    uint16_t id, n;
    REQUIRE(dev.pop(&id, &n));
    dev.push(id, 7, n);
    UsedChain u;
    REQUIRE(f.q.pop_used(&u));
    CHECK(u.token == round);
    CHECK(u.len == 7);
    slots += pair ? 2 : 1;
    const uint16_t want = DriverPackedRing::encode(static_cast<uint16_t>(slots % 4), (slots / 4) % 2 == 0);
    CHECK(f.q.avail_pos() == want);
    CHECK(f.q.used_pos() == want);
  }
  CHECK(f.q.free_count() == 4);
}

TEST_CASE("kicks follow the device event structure: DISABLE, ENABLE, DESC over two laps") {
  Fixture f(4, true);
  Device dev{f.q};
  v::PackedEvent* ev = f.q.device_event();
  DescSegment seg{0x1000, 64, false};
  auto add_publish = [&] {
    REQUIRE(f.q.add_chain({&seg, 1}, 0) >= 0);
    const bool kick = f.q.publish();
    uint16_t id, n;
    REQUIRE(dev.pop(&id, &n));
    dev.push(id, 0, n);
    UsedChain u;
    REQUIRE(f.q.pop_used(&u));
    return kick;
  };
  ev->flags = v::kPackedEventDisable;
  CHECK_FALSE(add_publish());  // 0 -> 1
  ev->flags = v::kPackedEventEnable;
  CHECK(add_publish());  // 1 -> 2
  ev->flags = v::kPackedEventDesc;
  ev->off_wrap = 0x8000 | 3;  // "kick me when slot 3 of this lap is made available"
  CHECK_FALSE(add_publish());  // 2 -> 3
  CHECK(add_publish());        // 3 -> 0 of the next lap
  ev->off_wrap = 0;            // slot 0 of the lap with wrap counter 0: the current one
  CHECK(add_publish());        // makes slot 0 (wrap 0) available
  ev->off_wrap = 0x8000;       // slot 0 of the previous lap: long gone
  CHECK_FALSE(add_publish());
}

TEST_CASE("driver event suppression: DESC at the used position with EVENT_IDX, else ENABLE") {
  SUBCASE("event idx") {
    Fixture f(8, true);
    f.q.disable_interrupts();
    CHECK(f.q.driver_event()->flags == v::kPackedEventDisable);
    CHECK_FALSE(f.q.enable_interrupts());
    CHECK(f.q.driver_event()->flags == v::kPackedEventDesc);
    CHECK(f.q.driver_event()->off_wrap == 0x8000);
  }
  SUBCASE("flags") {
    Fixture f(8, false);
    f.q.disable_interrupts();
    CHECK(f.q.driver_event()->flags == v::kPackedEventDisable);
    Device dev{f.q};
    DescSegment seg{0x1000, 64, true};
    REQUIRE(f.q.add_chain({&seg, 1}, 0) >= 0);
    f.q.publish();
    uint16_t id, n;
    REQUIRE(dev.pop(&id, &n));
    dev.push(id, 64, n);
    CHECK(f.q.enable_interrupts());  // already pending: do not sleep
    CHECK(f.q.driver_event()->flags == v::kPackedEventEnable);
  }
}

TEST_CASE("a used descriptor naming an id not lent is counted and skipped") {
  Fixture f(8, false);
  Device dev{f.q};
  DescSegment seg{0x1000, 64, false};
  REQUIRE(f.q.add_chain({&seg, 1}, 5) >= 0);
  REQUIRE(f.q.add_chain({&seg, 1}, 6) >= 0);
  f.q.publish();
  uint16_t id0, id1, n;
  REQUIRE(dev.pop(&id0, &n));
  REQUIRE(dev.pop(&id1, &n));
  dev.push(0xffff, 0, 1);  // never lent
  dev.push(id1, 0, 1);
  UsedChain u;
  REQUIRE(f.q.pop_used(&u));
  CHECK(u.token == 6);
  CHECK(f.q.bad_used() == 1);
  CHECK(f.q.free_count() == 7);  // the chain behind the bad id stays lent
}

TEST_CASE("raw chains: the rest of the chain can carry the other lap's flags") {
  Fixture f(8, false);
  const v::PackedDesc chain[2] = {{0x1000, 12, 3, v::kDescFNext}, {0x1100, 60, 3, 0}};
  REQUIRE(f.q.raw_add(chain, true));
  f.q.publish();
  CHECK(f.q.ring()[0].flags == (v::kDescFNext | v::kPackedDescFAvail));
  CHECK(f.q.ring()[1].flags == v::kPackedDescFUsed);  // wrap 1 written as if it were wrap 0
  CHECK(f.q.free_count() == 6);
}
