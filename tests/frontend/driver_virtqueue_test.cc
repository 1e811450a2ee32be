// SPDX-License-Identifier: MIT
// DriverVirtqueue: layout math, chains, indirect tables, free-list recycling, kick/interrupt rules.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "netback/frontend/driver_virtqueue.h"
#include "tests/frontend/ring_device.h"

namespace v = uvs::netback::virtio;
using uvs::frontend::DescSegment;
using uvs::frontend::DriverVirtqueue;
using uvs::frontend::GuestRam;
using uvs::frontend::RegionSpec;
using uvs::frontend::UsedChain;
using uvs::frontend::test::DevChain;
using uvs::frontend::test::RingDevice;

namespace {

struct Fixture {
  GuestRam ram;
  DriverVirtqueue q;
  Fixture(uint32_t size, bool event_idx) {
    RegionSpec specs[] = {{0, 1 << 20, 0}, {uint64_t{1} << 32, 1 << 20, 0}};
    REQUIRE(ram.map(specs).ok());
    auto base = ram.alloc(DriverVirtqueue::footprint(size), 4096, 0);
    REQUIRE(base);
    REQUIRE(q.init(ram, size, DriverVirtqueue::layout(*base, size), event_idx).ok());
  }
};

}  // namespace

TEST_CASE("split ring layout follows virtio 1.x sizes and alignments") {
  auto p = DriverVirtqueue::layout(0x10000, 256);
  CHECK(p.desc_gpa == 0x10000);
  CHECK(p.avail_gpa == 0x10000 + 16 * 256);
  // avail: flags, idx, 256 entries, used_event = 518 bytes; used starts on the next 4 KiB.
  CHECK(p.used_gpa == 0x10000 + 8192);
  CHECK(DriverVirtqueue::footprint(256) == 8192 + 4 + 8 * 256 + 2);
  auto one = DriverVirtqueue::layout(0, 1);
  CHECK(one.avail_gpa == 16);
  CHECK(one.used_gpa == 4096);
  CHECK(v::avail_ring_bytes(32768) == 4 + 65536 + 2);

  GuestRam ram;
  RegionSpec specs[] = {{0, 1 << 20, 0}};
  REQUIRE(ram.map(specs).ok());
  DriverVirtqueue q;
  CHECK_FALSE(q.init(ram, 100, DriverVirtqueue::layout(0, 100), false).ok());  // not a power of 2
  CHECK_FALSE(q.init(ram, 65536, DriverVirtqueue::layout(0, 65536), false).ok());
  CHECK_FALSE(q.init(ram, 256, DriverVirtqueue::layout(1 << 20, 256), false).ok());  // unmapped
  CHECK(q.init(ram, 256, DriverVirtqueue::layout(0, 256), false).ok());
}

TEST_CASE("event-index arithmetic wraps modulo 2^16") {
  // Notify iff event_idx lies in [old, new).
  CHECK(v::vring_need_event(5, 6, 5));
  CHECK_FALSE(v::vring_need_event(6, 6, 5));
  CHECK(v::vring_need_event(0xFFFF, 2, 0xFFFE));  // crossing the wrap
  CHECK(v::vring_need_event(1, 2, 0xFFFE));
  CHECK_FALSE(v::vring_need_event(2, 2, 0xFFFE));
  CHECK_FALSE(v::vring_need_event(10, 10, 10));    // nothing moved
}

TEST_CASE("chains are written as linked descriptors and popped back with their tokens") {
  Fixture f(8, false);
  RingDevice dev(f.ram, f.q);
  DescSegment segs[] = {{0x1000, 12, false}, {0x2000, 100, false}, {uint64_t{1} << 32, 50, true}};
  int32_t head = f.q.add_chain(segs, 77);
  REQUIRE(head != DriverVirtqueue::kNoHead);
  CHECK(f.q.free_count() == 5);
  DevChain c;
  CHECK_FALSE(dev.pop(&c));  // not published yet
  f.q.publish();
  REQUIRE(dev.pop(&c));
  CHECK(c.head == head);
  REQUIRE(c.segs.size() == 3);
  CHECK(c.segs[0].gpa == 0x1000);
  CHECK(c.segs[1].len == 100);
  CHECK_FALSE(c.segs[1].writable);
  CHECK(c.segs[2].writable);
  CHECK(c.segs[2].gpa == uint64_t{1} << 32);

  dev.push_used(c.head, 50);
  dev.flush();
  UsedChain u;
  REQUIRE(f.q.pop_used(&u));
  CHECK(u.token == 77);
  CHECK(u.len == 50);
  CHECK(f.q.free_count() == 8);
  CHECK_FALSE(f.q.pop_used(&u));
}

TEST_CASE("indirect chains use one ring descriptor and a table in another region") {
  Fixture f(4, false);
  RingDevice dev(f.ram, f.q);
  auto table = f.ram.alloc(64, 16, 1);
  REQUIRE(table);
  DescSegment segs[] = {{0x1000, 5, false}, {0x1005, 7, false}, {0x2000, 60, false}};
  int32_t head = f.q.add_indirect(segs, *table, 9);
  REQUIRE(head != DriverVirtqueue::kNoHead);
  CHECK(f.q.free_count() == 3);
  const v::VringDesc& d = f.q.desc_table()[head];
  CHECK(d.flags == v::kDescFIndirect);  // never NEXT together with INDIRECT (§2.7.5.3.1)
  CHECK(d.len == 3 * sizeof(v::VringDesc));
  CHECK(d.addr == *table);
  f.q.publish();
  DevChain c;
  REQUIRE(dev.pop(&c));
  CHECK(c.indirect);
  REQUIRE(c.segs.size() == 3);
  CHECK(c.segs[1].gpa == 0x1005);
  CHECK(c.segs[2].len == 60);
  CHECK_FALSE(f.q.add_indirect(segs, f.ram.unmapped_gpa(), 1) != DriverVirtqueue::kNoHead);
  CHECK(f.q.free_count() == 3);  // a failed add takes nothing
}

TEST_CASE("free list survives out-of-order completion and 16-bit index wrap") {
  Fixture f(16, true);
  RingDevice dev(f.ram, f.q);
  f.q.reset(65530);
  dev.reset(65530);
  uint32_t next_token = 0;
  std::set<uint32_t> outstanding;
  for (int round = 0; round < 40; ++round) {
    // Fill the ring with 2-descriptor chains until it refuses.
    for (;;) {
      DescSegment segs[] = {{0x1000, 12, false}, {0x2000, 64, false}};
      if (f.q.add_chain(segs, next_token) == DriverVirtqueue::kNoHead) break;
      outstanding.insert(next_token++);
    }
    CHECK(f.q.free_count() < 2);
    f.q.publish();
    // The device completes them in reverse order.
    std::vector<DevChain> chains;
    DevChain c;
    while (dev.pop(&c)) chains.push_back(c);
    std::set<uint16_t> descs_in_use;
    for (const DevChain& ch : chains) {
      // No descriptor is shared by two in-flight chains.
      CHECK(descs_in_use.insert(ch.head).second);
    }
    std::reverse(chains.begin(), chains.end());
    for (const DevChain& ch : chains) dev.push_used(ch.head, 0);
    dev.flush();
    UsedChain u;
    while (f.q.pop_used(&u)) CHECK(outstanding.erase(u.token) == 1);
  }
  CHECK(outstanding.empty());
  CHECK(f.q.free_count() == 16);
  CHECK(f.q.bad_used() == 0);
}

TEST_CASE("kicks follow NO_NOTIFY without EVENT_IDX") {
  Fixture f(8, false);
  RingDevice dev(f.ram, f.q);
  DescSegment seg{0x1000, 64, false};
  f.q.add_chain({&seg, 1}, 0);
  CHECK(f.q.publish());
  CHECK_FALSE(f.q.publish());  // nothing new
  dev.set_no_notify(true);
  f.q.add_chain({&seg, 1}, 1);
  CHECK_FALSE(f.q.publish());
  dev.set_no_notify(false);
  f.q.add_chain({&seg, 1}, 2);
  CHECK(f.q.publish());
}

TEST_CASE("kicks follow avail_event with EVENT_IDX") {
  Fixture f(8, true);
  RingDevice dev(f.ram, f.q);
  DescSegment seg{0x1000, 64, false};
  dev.set_avail_event(2);  // "kick me when entry 2 is published"
  f.q.add_chain({&seg, 1}, 0);
  CHECK_FALSE(f.q.publish());  // idx 0 -> 1
  f.q.add_chain({&seg, 1}, 1);
  CHECK_FALSE(f.q.publish());  // 1 -> 2: entry 2 not yet published
  f.q.add_chain({&seg, 1}, 2);
  f.q.add_chain({&seg, 1}, 3);
  CHECK(f.q.publish());  // 2 -> 4 crosses 2
  f.q.add_chain({&seg, 1}, 4);
  CHECK_FALSE(f.q.publish());  // the device has not re-armed
}

TEST_CASE("interrupt suppression: used_event with EVENT_IDX, NO_INTERRUPT without") {
  SUBCASE("event idx") {
    Fixture f(8, true);
    RingDevice dev(f.ram, f.q);
    DescSegment seg{0x1000, 64, true};
    for (uint32_t i = 0; i < 4; ++i) f.q.add_chain({&seg, 1}, i);
    f.q.publish();
    DevChain c;
    f.q.disable_interrupts();
    REQUIRE(dev.pop(&c));
    dev.push_used(c.head, 10);
    CHECK_FALSE(dev.flush());  // suppressed
    UsedChain u;
    REQUIRE(f.q.pop_used(&u));
    CHECK_FALSE(f.q.enable_interrupts());  // nothing pending: safe to sleep
    CHECK(*f.q.used_event_ptr() == 1);
    REQUIRE(dev.pop(&c));
    dev.push_used(c.head, 10);
    CHECK(dev.flush());  // 1 -> 2 crosses used_event 1
    // Enabled while entries are pending: tells the caller not to sleep.
    CHECK(f.q.enable_interrupts());
  }
  SUBCASE("flags") {
    Fixture f(8, false);
    RingDevice dev(f.ram, f.q);
    DescSegment seg{0x1000, 64, true};
    f.q.add_chain({&seg, 1}, 0);
    f.q.publish();
    f.q.disable_interrupts();
    CHECK(f.q.avail()->flags == v::kAvailFNoInterrupt);
    DevChain c;
    REQUIRE(dev.pop(&c));
    dev.push_used(c.head, 1);
    CHECK_FALSE(dev.flush());
    CHECK(f.q.enable_interrupts());
    CHECK(f.q.avail()->flags == 0);
  }
}

TEST_CASE("used entries naming heads not in flight are counted and skipped") {
  Fixture f(8, false);
  RingDevice dev(f.ram, f.q);
  DescSegment seg{0x1000, 64, false};
  f.q.add_chain({&seg, 1}, 5);
  f.q.publish();
  DevChain c;
  REQUIRE(dev.pop(&c));
  dev.push_used(200, 0);     // out of range
  dev.push_used(c.head, 0);  // the real one
  dev.push_used(c.head, 0);  // a duplicate completion
  dev.flush();
  UsedChain u;
  REQUIRE(f.q.pop_used(&u));
  CHECK(u.token == 5);
  CHECK_FALSE(f.q.pop_used(&u));
  CHECK(f.q.bad_used() == 2);
  CHECK(f.q.free_count() == 8);
}
