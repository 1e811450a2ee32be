// SPDX-License-Identifier: MIT
// Virtq: chain walking (direct, indirect, every malformed case), used-ring publishing, and
// notification suppression both ways (flags and EVENT_IDX).
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "netback/vhost/virtq.h"
#include "tests/netback/test_guest.h"

using namespace uvs::netback;
using uvs::netback::test::TestGuest;
using uvs::netback::test::TestRing;
namespace virtio = uvs::netback::virtio;

namespace {

struct Fixture {
  TestGuest g;
  TestRing r;
  Virtq vq;
  iovec iov[64];
  VirtqChain chain;

  explicit Fixture(uint32_t qsize = 16, VirtqFeatures f = {false, true, false})
      : g(1 << 20), r(g, qsize) {
    REQUIRE(vq.setup(&g.gm, r.layout(), 0, f));
  }
  VirtqError pop(uint32_t cap = 64) { return vq.pop(iov, cap, &chain); }
};

}  // namespace

TEST_CASE("vring_need_event follows the spec formula across wrap-around") {
  using virtio::vring_need_event;
  CHECK(vring_need_event(0, 1, 0));       // event 0 in [0,1)
  CHECK(!vring_need_event(1, 1, 0));      // event 1 not yet reached
  CHECK(vring_need_event(5, 10, 3));
  CHECK(!vring_need_event(2, 10, 3));     // already passed before this batch
  CHECK(!vring_need_event(10, 10, 3));
  CHECK(vring_need_event(0xffff, 2, 0xfffe));  // wraps
  CHECK(vring_need_event(0, 2, 0xfffe));
  CHECK(!vring_need_event(2, 2, 0xfffe));
  CHECK(!vring_need_event(7, 7, 7));      // nothing new
}

TEST_CASE("setup rejects bad sizes and misaligned rings") {
  TestGuest g;
  TestRing r(g, 16);
  Virtq vq;
  VirtqLayout l = r.layout();
  l.size = 12;
  CHECK(!vq.setup(&g.gm, l, 0, {}));
  l.size = 0;
  CHECK(!vq.setup(&g.gm, l, 0, {}));
  l.size = 65536;
  CHECK(!vq.setup(&g.gm, l, 0, {}));
  l = r.layout();
  l.desc = static_cast<uint8_t*>(l.desc) + 8;
  CHECK(!vq.setup(&g.gm, l, 0, {}));
  CHECK(!vq.ready());
  CHECK(!vq.pending());
  VirtqChain c;
  iovec iov[1];
  CHECK(vq.pop(iov, 1, &c) == VirtqError::kNotReady);
  CHECK(vq.setup(&g.gm, r.layout(), 0, {}));
}

TEST_CASE("a direct chain pops into readable then writable segments") {
  Fixture f;
  CHECK(!f.vq.pending());
  CHECK(f.pop() == VirtqError::kEmpty);
  const char hello[] = "hello, world";
  uint16_t head = f.r.add_chain({{12, false, hello}, {100, false}, {64, true}, {64, true}});
  CHECK(f.vq.pending());
  REQUIRE(f.pop() == VirtqError::kOk);
  CHECK(f.chain.head == head);
  CHECK(f.chain.readable == 2);
  CHECK(f.chain.writable == 2);
  CHECK(f.chain.readable_len == 112);
  CHECK(f.chain.writable_len == 128);
  CHECK(std::memcmp(f.iov[0].iov_base, hello, 12) == 0);
  CHECK(!f.vq.pending());
  CHECK(f.pop() == VirtqError::kEmpty);
}

TEST_CASE("an indirect chain pops like a direct one") {
  Fixture f;
  const char data[] = "0123456789abcdef";
  uint16_t head = f.r.add_indirect({{16, false, data}, {8, false}, {32, true}});
  REQUIRE(f.pop() == VirtqError::kOk);
  CHECK(f.chain.head == head);
  CHECK(f.chain.readable == 2);
  CHECK(f.chain.writable == 1);
  CHECK(f.chain.writable_len == 32);
  CHECK(std::memcmp(f.iov[0].iov_base, data, 16) == 0);
}

TEST_CASE("used elements are published once per flush") {
  Fixture f;
  uint16_t a = f.r.add_chain({{64, true}});
  uint16_t b = f.r.add_chain({{64, true}});
  REQUIRE(f.pop() == VirtqError::kOk);
  REQUIRE(f.pop() == VirtqError::kOk);
  f.vq.push(a, 10);
  f.vq.push(b, 20);
  CHECK(f.r.used_idx() == 0);  // not visible before flush
  CHECK(f.vq.flush());         // no suppression: interrupt wanted
  CHECK(f.r.used_idx() == 2);
  CHECK(f.r.used()->ring[0].id == a);
  CHECK(f.r.used()->ring[0].len == 10);
  CHECK(f.r.used()->ring[1].id == b);
  CHECK(f.r.used()->ring[1].len == 20);
  CHECK(!f.vq.flush());  // nothing new
}

TEST_CASE("unpop returns chains to be popped again") {
  Fixture f;
  uint16_t a = f.r.add_chain({{64, true}});
  f.r.add_chain({{64, true}});
  REQUIRE(f.pop() == VirtqError::kOk);
  REQUIRE(f.pop() == VirtqError::kOk);
  f.vq.unpop(2);
  CHECK(f.vq.last_avail_idx() == 0);
  REQUIRE(f.pop() == VirtqError::kOk);
  CHECK(f.chain.head == a);
}

TEST_CASE("interrupt suppression without EVENT_IDX uses avail->flags") {
  Fixture f;
  uint16_t a = f.r.add_chain({{64, true}});
  f.r.avail()->flags = virtio::kAvailFNoInterrupt;
  REQUIRE(f.pop() == VirtqError::kOk);
  f.vq.push(a, 1);
  CHECK(!f.vq.flush());
  CHECK(f.r.used_idx() == 1);
}

TEST_CASE("NOTIFY_ON_EMPTY interrupts when the ring ran empty despite NO_INTERRUPT") {
  Fixture f(16, {false, true, true});
  uint16_t a = f.r.add_chain({{64, true}});
  f.r.add_chain({{64, true}});
  f.r.avail()->flags = virtio::kAvailFNoInterrupt;
  REQUIRE(f.pop() == VirtqError::kOk);
  f.vq.push(a, 1);
  CHECK(!f.vq.flush());  // one chain still available
  REQUIRE(f.pop() == VirtqError::kOk);
  f.vq.push(f.chain.head, 1);
  CHECK(f.vq.flush());   // empty now
}

TEST_CASE("EVENT_IDX: used_event decides the interrupt") {
  Fixture f(16, {true, true, false});
  for (int i = 0; i < 4; ++i) f.r.add_chain({{64, true}});
  f.r.used_event() = 2;  // driver wants an interrupt once used idx passes 2
  for (int i = 0; i < 2; ++i) {
    REQUIRE(f.pop() == VirtqError::kOk);
    f.vq.push(f.chain.head, 1);
  }
  CHECK(!f.vq.flush());  // used idx 0 -> 2: event 2 not in [0,2)
  REQUIRE(f.pop() == VirtqError::kOk);
  f.vq.push(f.chain.head, 1);
  CHECK(f.vq.flush());   // 2 -> 3: crosses the event
  REQUIRE(f.pop() == VirtqError::kOk);
  f.vq.push(f.chain.head, 1);
  CHECK(!f.vq.flush());  // 3 -> 4: already signalled for 2
  // NO_INTERRUPT is ignored with EVENT_IDX.
  f.r.avail()->flags = virtio::kAvailFNoInterrupt;
  f.r.used_event() = 4;
  f.r.add_chain({{64, true}});
  REQUIRE(f.pop() == VirtqError::kOk);
  f.vq.push(f.chain.head, 1);
  CHECK(f.vq.flush());
}

TEST_CASE("kick suppression: NO_NOTIFY flag without EVENT_IDX") {
  Fixture f;
  f.vq.disable_notifications();
  CHECK((f.r.used()->flags & virtio::kUsedFNoNotify) != 0);
  CHECK(!f.vq.enable_notifications());
  CHECK((f.r.used()->flags & virtio::kUsedFNoNotify) == 0);
  f.vq.disable_notifications();
  f.r.add_chain({{64, false}});
  // Work that arrived while suppressed is reported so the caller processes it.
  CHECK(f.vq.enable_notifications());
}

TEST_CASE("kick suppression: avail_event with EVENT_IDX") {
  Fixture f(16, {true, true, false});
  f.r.add_chain({{64, false}});
  f.r.add_chain({{64, false}});
  REQUIRE(f.pop() == VirtqError::kOk);
  CHECK(f.vq.update_avail_event());  // one still pending
  CHECK(f.r.avail_event() == 1);
  REQUIRE(f.pop() == VirtqError::kOk);
  f.vq.disable_notifications();
  CHECK(!f.vq.update_avail_event());
  CHECK(f.r.avail_event() == 1);     // not moved while suppressed
  CHECK(f.r.used()->flags == 0);     // the flag is not used with EVENT_IDX
  CHECK(!f.vq.enable_notifications());
  CHECK(f.r.avail_event() == 2);
}

TEST_CASE("setup continues from SET_VRING_BASE and the ring's used index") {
  TestGuest g;
  TestRing r(g, 8);
  for (int i = 0; i < 3; ++i) r.add_chain({{32, true}});
  r.used()->idx = 2;
  Virtq vq;
  REQUIRE(vq.setup(&g.gm, r.layout(), 2, {}));
  CHECK(vq.used_idx() == 2);
  iovec iov[4];
  VirtqChain c;
  REQUIRE(vq.pop(iov, 4, &c) == VirtqError::kOk);
  CHECK(c.head == 2);
  CHECK(vq.pop(iov, 4, &c) == VirtqError::kEmpty);
}

TEST_CASE("ring indexes wrap around 2^16") {
  TestGuest g;
  TestRing r(g, 4);
  r.avail_idx = 0xfffe;
  r.used()->idx = 0xfffe;
  Virtq vq;
  REQUIRE(vq.setup(&g.gm, r.layout(), 0xfffe, {}));
  for (int round = 0; round < 3; ++round) {
    r.next_free = 0;
    uint16_t h = r.add_chain({{32, true}});
    iovec iov[2];
    VirtqChain c;
    REQUIRE(vq.pop(iov, 2, &c) == VirtqError::kOk);
    CHECK(c.head == h);
    vq.push(c.head, 5);
    vq.flush();
  }
  CHECK(r.used_idx() == 1);
  CHECK(vq.last_avail_idx() == 1);
}

// ---- malformed rings ----

TEST_CASE("avail idx jumping past the ring size is fatal") {
  Fixture f;
  f.r.avail()->idx = 17;
  CHECK(f.pop() == VirtqError::kAvailIdxJump);
  CHECK(is_fatal(VirtqError::kAvailIdxJump));
}

TEST_CASE("a head index out of range is fatal") {
  Fixture f;
  f.r.publish(16);
  CHECK(f.pop() == VirtqError::kHeadOutOfRange);
}

TEST_CASE("a next index out of range is fatal") {
  Fixture f;
  uint64_t b = f.r.alloc(64);
  f.r.set_desc(0, b, 64, virtio::kDescFNext, 16);
  f.r.publish(0);
  CHECK(f.pop() == VirtqError::kNextOutOfRange);
}

TEST_CASE("chain loops are detected, direct and indirect") {
  SUBCASE("two-element cycle") {
    Fixture f;
    uint64_t b = f.r.alloc(64);
    f.r.set_desc(0, b, 64, virtio::kDescFNext, 1);
    f.r.set_desc(1, b, 64, virtio::kDescFNext, 0);
    f.r.publish(0);
    CHECK(f.pop() == VirtqError::kChainLoop);
  }
  SUBCASE("self loop") {
    Fixture f;
    uint64_t b = f.r.alloc(64);
    f.r.set_desc(3, b, 64, virtio::kDescFNext, 3);
    f.r.publish(3);
    CHECK(f.pop() == VirtqError::kChainLoop);
  }
  SUBCASE("loop inside an indirect table") {
    Fixture f;
    uint64_t t = f.r.alloc(32, 16);
    uint64_t b = f.r.alloc(64);
    auto* tab = reinterpret_cast<virtio::VringDesc*>(f.g.host(t));
    tab[0] = {b, 64, virtio::kDescFNext, 1};
    tab[1] = {b, 64, virtio::kDescFNext, 0};
    f.r.set_desc(0, t, 32, virtio::kDescFIndirect);
    f.r.publish(0);
    CHECK(f.pop() == VirtqError::kChainLoop);
  }
}

TEST_CASE("buffers outside guest memory are fatal") {
  Fixture f;
  f.r.set_desc(0, 0x10, 64, 0);  // below the region
  f.r.publish(0);
  CHECK(f.pop() == VirtqError::kUnmapped);
}

TEST_CASE("a buffer running off the end of memory is fatal") {
  Fixture f;
  f.r.set_desc(0, TestGuest::kGpa + (1 << 20) - 10, 64, 0);
  f.r.publish(0);
  CHECK(f.pop() == VirtqError::kUnmapped);
}

TEST_CASE("a buffer whose end wraps 2^64 is fatal") {
  Fixture f;
  f.r.set_desc(0, ~uint64_t{0} - 10, 64, 0);
  f.r.publish(0);
  CHECK(f.pop() == VirtqError::kUnmapped);
}

TEST_CASE("a chain of 4 GiB or more is fatal") {
  // A huge unowned region: translation is pointer arithmetic only; nothing is accessed.
  std::vector<uint8_t> ring(8192);
  GuestMemory gm;
  REQUIRE(gm.add_unowned_region({0, 8192, 0x100000, 0}, ring.data()));
  REQUIRE(gm.add_unowned_region({1ull << 40, 16ull << 30, 1ull << 44, 0},
                                reinterpret_cast<void*>(uintptr_t{1} << 40)));
  auto* desc = reinterpret_cast<virtio::VringDesc*>(ring.data());
  auto* avail = reinterpret_cast<virtio::VringAvail*>(ring.data() + 16 * 4);
  auto* used = ring.data() + 4096;
  desc[0] = {1ull << 40, 0x80000000u, virtio::kDescFNext, 1};
  desc[1] = {(1ull << 40) + 0x80000000u, 0x80000000u, 0, 0};
  avail->ring[0] = 0;
  avail->idx = 1;
  Virtq vq;
  REQUIRE(vq.setup(&gm, {desc, avail, used, 4}, 0, {}));
  iovec iov[8];
  VirtqChain c;
  CHECK(vq.pop(iov, 8, &c) == VirtqError::kChainTooLong);
}

TEST_CASE("readable after writable is fatal") {
  Fixture f;
  f.r.add_chain({{64, true}, {64, false}});
  CHECK(f.pop() == VirtqError::kReadableAfterWritable);
}

TEST_CASE("zero-length descriptors are fatal") {
  Fixture f;
  f.r.add_chain({{64, false}, {0, false}});
  CHECK(f.pop() == VirtqError::kZeroLength);
  CHECK(is_fatal(VirtqError::kZeroLength));
}

TEST_CASE("a loop or a bad address past the iovec capacity is still fatal") {
  SUBCASE("loop") {
    Fixture f;
    uint64_t b = f.r.alloc(64);
    for (uint16_t i = 0; i < 16; ++i) f.r.set_desc(i, b, 8, virtio::kDescFNext, (i + 1) % 16);
    f.r.publish(0);
    CHECK(f.pop(4) == VirtqError::kChainLoop);
  }
  SUBCASE("unmapped") {
    Fixture f;
    uint64_t b = f.r.alloc(64);
    for (uint16_t i = 0; i < 6; ++i) f.r.set_desc(i, b, 8, virtio::kDescFNext, i + 1);
    f.r.set_desc(6, 0x10, 8, 0);
    f.r.publish(0);
    CHECK(f.pop(4) == VirtqError::kUnmapped);
  }
}

TEST_CASE("more segments than the capacity drops the chain, not the queue") {
  Fixture f;
  uint16_t big = f.r.add_chain({{8, false}, {8, false}, {8, false}, {8, false}, {8, false}});
  uint16_t ok = f.r.add_chain({{8, false}, {8, false}});
  CHECK(f.pop(4) == VirtqError::kTooManySegments);
  CHECK(f.chain.head == big);
  REQUIRE(f.pop(4) == VirtqError::kOk);
  CHECK(f.chain.head == ok);
}

TEST_CASE("indirect: not negotiated, bad sizes, nested, with NEXT, unmapped") {
  SUBCASE("not negotiated") {
    Fixture f(16, {false, false, false});
    f.r.add_indirect({{16, false}});
    CHECK(f.pop() == VirtqError::kIndirectNotNegotiated);
  }
  SUBCASE("size zero") {
    Fixture f;
    f.r.set_desc(0, f.r.alloc(16), 0, virtio::kDescFIndirect);
    f.r.publish(0);
    CHECK(f.pop() == VirtqError::kIndirectBadSize);
  }
  SUBCASE("size not a multiple of 16") {
    Fixture f;
    f.r.set_desc(0, f.r.alloc(32), 17, virtio::kDescFIndirect);
    f.r.publish(0);
    CHECK(f.pop() == VirtqError::kIndirectBadSize);
  }
  SUBCASE("nested") {
    Fixture f;
    uint64_t t = f.r.alloc(16, 16);
    uint64_t t2 = f.r.alloc(16, 16);
    reinterpret_cast<virtio::VringDesc*>(f.g.host(t))[0] = {t2, 16, virtio::kDescFIndirect, 0};
    f.r.set_desc(0, t, 16, virtio::kDescFIndirect);
    f.r.publish(0);
    CHECK(f.pop() == VirtqError::kIndirectNested);
  }
  SUBCASE("with NEXT") {
    Fixture f;
    uint64_t t = f.r.alloc(16, 16);
    reinterpret_cast<virtio::VringDesc*>(f.g.host(t))[0] = {f.r.alloc(8), 8, 0, 0};
    f.r.set_desc(0, t, 16, virtio::kDescFIndirect | virtio::kDescFNext, 1);
    f.r.publish(0);
    CHECK(f.pop() == VirtqError::kIndirectWithNext);
  }
  SUBCASE("table outside memory") {
    Fixture f;
    f.r.set_desc(0, TestGuest::kGpa + (1 << 20) - 16, 32, virtio::kDescFIndirect);
    f.r.publish(0);
    CHECK(f.pop() == VirtqError::kIndirectUnmapped);
  }
  SUBCASE("next out of range inside the table") {
    Fixture f;
    uint64_t t = f.r.alloc(32, 16);
    auto* tab = reinterpret_cast<virtio::VringDesc*>(f.g.host(t));
    tab[0] = {f.r.alloc(8), 8, virtio::kDescFNext, 2};
    f.r.set_desc(0, t, 32, virtio::kDescFIndirect);
    f.r.publish(0);
    CHECK(f.pop() == VirtqError::kNextOutOfRange);
  }
}

TEST_CASE("every VirtqError has a name") {
  for (int e = 0; e <= static_cast<int>(VirtqError::kIndirectUnmapped); ++e) {
    CHECK(std::strcmp(to_string(static_cast<VirtqError>(e)), "unknown virtqueue error") != 0);
  }
}
