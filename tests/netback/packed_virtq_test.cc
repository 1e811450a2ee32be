// SPDX-License-Identifier: MIT
// PackedVirtq: available/used detection with wrap counters, chains and indirect tables, every
// malformed case, out-of-order completion by buffer id, event suppression both ways, the dirty
// log, and the virtio-net bursts over a packed ring.
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "netback/vhost/dirty_log.h"
#include "netback/vhost/net_datapath.h"
#include "netback/vhost/packed_virtq.h"
#include "tests/netback/test_packed_ring.h"

using namespace uvs;
using namespace uvs::netback;
using uvs::netback::test::TestGuest;
using uvs::netback::test::TestPackedRing;
namespace virtio = uvs::netback::virtio;

namespace {

struct Fixture {
  TestGuest g;
  TestPackedRing r;
  PackedVirtq vq;
  iovec iov[64];
  uint64_t gpa[64];
  VirtqChain chain;

  explicit Fixture(uint32_t qsize = 8, VirtqFeatures f = {false, true, false})
      : g(1 << 20), r(g, qsize) {
    REQUIRE(vq.setup(&g.gm, r.layout(), PackedPos{}, f));
  }
  VirtqError pop(uint32_t cap = 64) { return vq.pop(iov, cap, &chain, gpa); }
};

struct NullPort final : port::Port {
  size_t send_burst(std::span<const port::Frame>) noexcept override { return 0; }
  void set_sink(port::FrameSink*) noexcept override {}
  std::string_view name() const noexcept override { return "test"; }
  port::PortState state() const noexcept override { return port::PortState::kUp; }
};

struct CopySink final : port::FrameSink {
  std::vector<std::vector<uint8_t>> frames;
  void receive_burst(port::Port&, std::span<const port::Frame> fs) noexcept override {
    for (const auto& f : fs) {
      std::vector<uint8_t> out;
      for (uint32_t i = 0; i < f.iovcnt; ++i) {
        const auto* p = static_cast<const uint8_t*>(f.iov[i].iov_base);
        out.insert(out.end(), p, p + f.iov[i].iov_len);
      }
      frames.push_back(std::move(out));
    }
  }
};

}  // namespace

TEST_CASE("packed setup: sizes need not be powers of two; bad sizes, bases and alignment refused") {
  TestGuest g;
  TestPackedRing r(g, 10);
  PackedVirtq vq;
  PackedLayout l = r.layout();
  CHECK(vq.setup(&g.gm, l, PackedPos{}, {}));
  CHECK(vq.ready());
  CHECK(!vq.setup(&g.gm, l, PackedPos{10, true}, {}));  // base outside the ring
  CHECK(!vq.ready());
  l.size = 0;
  CHECK(!vq.setup(&g.gm, l, PackedPos{}, {}));
  l.size = 32769;
  CHECK(!vq.setup(&g.gm, l, PackedPos{}, {}));
  l = r.layout();
  l.desc = static_cast<uint8_t*>(l.desc) + 8;
  CHECK(!vq.setup(&g.gm, l, PackedPos{}, {}));
  l = r.layout();
  l.device_event = static_cast<uint8_t*>(l.device_event) + 2;
  CHECK(!vq.setup(&g.gm, l, PackedPos{}, {}));
  VirtqChain c;
  iovec iov[1];
  CHECK(vq.pop(iov, 1, &c) == VirtqError::kNotReady);
  CHECK(!vq.pending());
}

TEST_CASE("packed: a chain pops into readable then writable segments, id from its last entry") {
  Fixture f;
  CHECK(!f.vq.pending());
  CHECK(f.pop() == VirtqError::kEmpty);
  const char hello[] = "hello, world";
  f.r.add_chain(7, {{12, false, hello}, {100, false}, {64, true}});
  CHECK(f.vq.pending());
  REQUIRE(f.pop() == VirtqError::kOk);
  CHECK(f.chain.head == 7);
  CHECK(f.chain.ndescs == 3);
  CHECK(f.chain.readable == 2);
  CHECK(f.chain.writable == 1);
  CHECK(f.chain.readable_len == 112);
  CHECK(f.chain.writable_len == 64);
  CHECK(std::memcmp(f.iov[0].iov_base, hello, 12) == 0);
  CHECK(f.gpa[0] == f.r.desc()[0].addr);
  CHECK(f.vq.avail_pos().idx == 3);
  CHECK(f.pop() == VirtqError::kEmpty);
}

TEST_CASE("packed: used descriptors appear only at flush, first one last") {
  Fixture f;
  f.r.add_chain(1, {{64, true}});
  f.r.add_chain(2, {{64, true}});
  REQUIRE(f.pop() == VirtqError::kOk);
  UsedRef a = f.chain.ref();
  REQUIRE(f.pop() == VirtqError::kOk);
  UsedRef b = f.chain.ref();
  f.vq.push(a, 10);
  f.vq.push(b, 0);
  TestPackedRing::Used u;
  CHECK(!f.r.pop_used(&u));  // the first used descriptor's flags are stored by flush()
  CHECK(f.vq.flush());       // driver event flags 0: ENABLE
  REQUIRE(f.r.pop_used(&u));
  CHECK(u.id == 1);
  CHECK(u.len == 10);
  CHECK((u.flags & virtio::kDescFWrite) != 0);
  REQUIRE(f.r.pop_used(&u));
  CHECK(u.id == 2);
  CHECK((u.flags & virtio::kDescFWrite) == 0);
  CHECK(!f.r.pop_used(&u));
  CHECK(!f.vq.flush());  // nothing new
}

TEST_CASE("packed: chains complete out of order, each used entry skipping its chain's length") {
  Fixture f(16);
  f.r.add_chain(10, {{64, false}, {64, false}});
  f.r.add_chain(11, {{64, false}});
  f.r.add_chain(12, {{64, false}, {64, false}, {64, false}});
  UsedRef refs[3];
  for (auto& ref : refs) {
    REQUIRE(f.pop() == VirtqError::kOk);
    ref = f.chain.ref();
  }
  f.vq.push(refs[2], 0);
  f.vq.push(refs[0], 0);
  f.vq.push(refs[1], 0);
  f.vq.flush();
  std::vector<uint16_t> ids;
  TestPackedRing::Used u;
  while (f.r.pop_used(&u)) ids.push_back(u.id);
  CHECK(ids == std::vector<uint16_t>{12, 10, 11});
  CHECK(f.vq.used_pos().idx == 6);
  CHECK(f.r.next_used == 6);
}

TEST_CASE("packed: wrap counters flip at the end of a ring of odd size, chains straddle it") {
  Fixture f(5);
  uint16_t id = 0;
  for (int round = 0; round < 40; ++round) {
    // Two chains of two entries: every other round one straddles the end of the ring.
    f.r.add_chain(id, {{32, false}, {32, true}});
    f.r.add_chain(static_cast<uint16_t>(id + 1), {{48, false}, {16, true}});
    for (int k = 0; k < 2; ++k) {
      REQUIRE(f.pop() == VirtqError::kOk);
      CHECK(f.chain.head == id + k);
      CHECK(f.chain.readable == 1);
      CHECK(f.chain.writable == 1);
      f.vq.push(f.chain.ref(), 16);
    }
    CHECK(f.pop() == VirtqError::kEmpty);
    f.vq.flush();
    TestPackedRing::Used u;
    REQUIRE(f.r.pop_used(&u));
    CHECK(u.id == id);
    REQUIRE(f.r.pop_used(&u));
    CHECK(u.id == id + 1);
    CHECK(!f.r.pop_used(&u));
    id = static_cast<uint16_t>(id + 2);
  }
  CHECK(f.vq.avail_pos().idx == f.r.next_avail);
  CHECK(f.vq.avail_pos().wrap == f.r.avail_wrap);
  CHECK(f.vq.used_pos().wrap == f.r.used_wrap);
}

TEST_CASE("packed: indirect tables; INDIRECT needs the feature and stands alone") {
  SUBCASE("walks the table") {
    Fixture f;
    f.r.add_indirect(3, {{12, false}, {50, false}, {100, true}});
    REQUIRE(f.pop() == VirtqError::kOk);
    CHECK(f.chain.head == 3);
    CHECK(f.chain.ndescs == 1);
    CHECK(f.chain.readable_len == 62);
    CHECK(f.chain.writable_len == 100);
  }
  SUBCASE("not negotiated") {
    Fixture f(8, {false, false, false});
    f.r.add_indirect(3, {{12, false}});
    CHECK(f.pop() == VirtqError::kIndirectNotNegotiated);
  }
  SUBCASE("with NEXT") {
    Fixture f;
    uint64_t t = f.r.alloc(16);
    f.r.add_raw({{t, 16, 0, virtio::kDescFIndirect | virtio::kDescFNext}, {f.r.alloc(8), 8, 1, 0}});
    CHECK(f.pop() == VirtqError::kIndirectWithNext);
  }
  SUBCASE("inside a NEXT list") {
    Fixture f;
    uint64_t t = f.r.alloc(16);
    f.r.add_raw({{f.r.alloc(8), 8, 0, virtio::kDescFNext}, {t, 16, 1, virtio::kDescFIndirect}});
    CHECK(f.pop() == VirtqError::kIndirectWithNext);
  }
  SUBCASE("bad table size") {
    Fixture f;
    f.r.add_raw({{f.r.alloc(32), 17, 1, virtio::kDescFIndirect}});
    CHECK(f.pop() == VirtqError::kIndirectBadSize);
  }
  SUBCASE("table outside guest memory") {
    Fixture f;
    f.r.add_raw({{0x40000000, 32, 1, virtio::kDescFIndirect}});
    CHECK(f.pop() == VirtqError::kIndirectUnmapped);
  }
  SUBCASE("a nested table") {
    Fixture f;
    uint64_t t = f.r.alloc(32);
    auto* e = reinterpret_cast<virtio::PackedDesc*>(f.g.host(t));
    e[0] = {f.r.alloc(16), 16, 0, virtio::kDescFIndirect};
    e[1] = {f.r.alloc(64), 64, 0, 0};
    f.r.add_raw({{t, 32, 1, virtio::kDescFIndirect}});
    CHECK(f.pop() == VirtqError::kIndirectNested);
  }
  SUBCASE("an entry outside guest memory") {
    Fixture f;
    uint64_t t = f.r.alloc(16);
    *reinterpret_cast<virtio::PackedDesc*>(f.g.host(t)) = {0x40000000, 64, 0, 0};
    f.r.add_raw({{t, 16, 1, virtio::kDescFIndirect}});
    CHECK(f.pop() == VirtqError::kUnmapped);
  }
}

TEST_CASE("packed: malformed chains are fatal, too many segments only drops the chain") {
  SUBCASE("zero length") {
    Fixture f;
    f.r.add_raw({{f.r.alloc(8), 0, 1, 0}});
    CHECK(f.pop() == VirtqError::kZeroLength);
  }
  SUBCASE("buffer outside guest memory") {
    Fixture f;
    f.r.add_raw({{TestGuest::kGpa + f.g.size - 8, 64, 1, 0}});
    CHECK(f.pop() == VirtqError::kUnmapped);
  }
  SUBCASE("readable after writable") {
    Fixture f;
    f.r.add_chain(1, {{8, true}, {8, false}});
    CHECK(f.pop() == VirtqError::kReadableAfterWritable);
  }
  SUBCASE("huge length") {
    Fixture f;
    f.r.add_chain(1, {{8, false}});
    f.r.desc()[0].len = 0xffffffff;
    CHECK(is_fatal(f.pop()));
  }
  SUBCASE("a chain longer than the ring") {
    Fixture f(4);
    std::vector<virtio::PackedDesc> ds;
    for (int k = 0; k < 4; ++k) ds.push_back({f.r.alloc(8), 8, 0, virtio::kDescFNext});
    f.r.add_raw(ds);
    // The chain runs on into its own first entry, now in the next lap.
    CHECK(is_fatal(f.pop()));
  }
  SUBCASE("a chain into an entry that is not available") {
    Fixture f;
    f.r.add_raw({{f.r.alloc(8), 8, 0, virtio::kDescFNext}});
    CHECK(f.pop() == VirtqError::kChainNotAvailable);
  }
  SUBCASE("too many segments: the chain is consumed and returned, the ring goes on") {
    Fixture f;
    f.r.add_chain(4, {{8, false}, {8, false}, {8, false}});
    f.r.add_chain(5, {{8, false}});
    CHECK(f.pop(2) == VirtqError::kTooManySegments);
    CHECK(f.chain.head == 4);
    CHECK(f.chain.ndescs == 3);
    f.vq.push(f.chain.ref(), 0);
    REQUIRE(f.pop(2) == VirtqError::kOk);
    CHECK(f.chain.head == 5);
  }
}

TEST_CASE("packed: rewind pops the same chains again") {
  Fixture f;
  f.r.add_chain(1, {{64, true}, {64, true}});
  f.r.add_chain(2, {{64, true}});
  auto mark = f.vq.avail_mark();
  REQUIRE(f.pop() == VirtqError::kOk);
  REQUIRE(f.pop() == VirtqError::kOk);
  f.vq.rewind(mark);
  REQUIRE(f.pop() == VirtqError::kOk);
  CHECK(f.chain.head == 1);
  CHECK(f.chain.ndescs == 2);
}

TEST_CASE("packed: driver event suppression decides the interrupt") {
  SUBCASE("DISABLE and ENABLE") {
    Fixture f;
    f.r.add_chain(1, {{64, true}});
    f.r.add_chain(2, {{64, true}});
    f.r.driver_event().flags = virtio::kPackedEventDisable;
    REQUIRE(f.pop() == VirtqError::kOk);
    f.vq.push(f.chain.ref(), 1);
    CHECK(!f.vq.flush());
    f.r.driver_event().flags = virtio::kPackedEventEnable;
    REQUIRE(f.pop() == VirtqError::kOk);
    f.vq.push(f.chain.ref(), 1);
    CHECK(f.vq.flush());
  }
  SUBCASE("DESC with EVENT_IDX: only when the named entry is used, across the wrap") {
    Fixture f(4, {true, true, false});
    f.r.driver_event().flags = virtio::kPackedEventDesc;
    // The driver wants an interrupt when entry 1 of the second lap (wrap counter 0) is used.
    f.r.driver_event().off_wrap = 1;
    uint16_t id = 0;
    std::vector<bool> notified;
    for (int k = 0; k < 8; ++k) {
      f.r.add_chain(id, {{16, true}});
      REQUIRE(f.pop() == VirtqError::kOk);
      f.vq.push(f.chain.ref(), 1);
      notified.push_back(f.vq.flush());
      TestPackedRing::Used u;
      REQUIRE(f.r.pop_used(&u));
      ++id;
    }
    // Entries used: (0,1) (1,1) (2,1) (3,1) (0,0) (1,0) (2,0) (3,0).
    CHECK(notified == std::vector<bool>{false, false, false, false, false, true, false, false});
  }
  SUBCASE("DESC without EVENT_IDX means enabled") {
    Fixture f;
    f.r.driver_event().flags = virtio::kPackedEventDesc;
    f.r.driver_event().off_wrap = 0x7fff;
    f.r.add_chain(1, {{64, true}});
    REQUIRE(f.pop() == VirtqError::kOk);
    f.vq.push(f.chain.ref(), 1);
    CHECK(f.vq.flush());
  }
}

TEST_CASE("packed: device event suppression asks for kicks as negotiated") {
  SUBCASE("without EVENT_IDX: DISABLE / ENABLE") {
    Fixture f;
    f.vq.disable_notifications();
    CHECK(f.r.device_event().flags == virtio::kPackedEventDisable);
    CHECK(!f.vq.enable_notifications());
    CHECK(f.r.device_event().flags == virtio::kPackedEventEnable);
    f.r.add_chain(1, {{64, true}});
    f.vq.disable_notifications();
    CHECK(f.vq.enable_notifications());  // a buffer arrived meanwhile
  }
  SUBCASE("with EVENT_IDX: DESC at the next position and its wrap counter") {
    Fixture f(4, {true, true, false});
    for (uint16_t id = 0; id < 5; ++id) {
      f.r.add_chain(id, {{16, true}});
      REQUIRE(f.pop() == VirtqError::kOk);
      f.vq.push(f.chain.ref(), 0);
      f.vq.flush();
      TestPackedRing::Used u;
      REQUIRE(f.r.pop_used(&u));
    }
    CHECK(!f.vq.enable_notifications());
    CHECK(f.r.device_event().flags == virtio::kPackedEventDesc);
    CHECK(f.r.device_event().off_wrap == 1);  // entry 1, wrap counter 0
    f.r.add_chain(9, {{16, true}});
    REQUIRE(f.pop() == VirtqError::kOk);
    CHECK(!f.vq.update_avail_event());
    CHECK(f.r.device_event().off_wrap == 2);
  }
}

TEST_CASE("packed: vring base encodes the avail and used positions with their wrap counters") {
  Fixture f(4);
  CHECK(f.vq.vring_base() == 0x80008000u);
  for (uint16_t id = 0; id < 5; ++id) {
    f.r.add_chain(id, {{16, true}});
    REQUIRE(f.pop() == VirtqError::kOk);
    f.vq.push(f.chain.ref(), 0);
    f.vq.flush();
    TestPackedRing::Used u;
    REQUIRE(f.r.pop_used(&u));
  }
  CHECK(f.vq.vring_base() == 0x00010001u);
  PackedPos p = PackedVirtq::decode(0x8003);
  CHECK(p.idx == 3);
  CHECK(p.wrap);
  PackedVirtq again;
  REQUIRE(again.setup(&f.g.gm, f.r.layout(), PackedVirtq::decode(0x0001), {}));
  f.r.add_chain(7, {{16, true}});
  REQUIRE(again.pop(f.iov, 64, &f.chain) == VirtqError::kOk);
  CHECK(f.chain.head == 7);
}

TEST_CASE("packed: the dirty log gets buffers, used descriptors and the device event area") {
  Fixture f(8, {true, true, false});
  int fd = memfd_create("uvs-test-log", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, 4096) == 0);
  auto* view = static_cast<uint8_t*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  REQUIRE(view != MAP_FAILED);
  auto marked = [&](uint64_t gpa) {
    uint64_t p = gpa / kLogPageSize;
    return (view[p / 8] >> (p % 8)) & 1;
  };
  DirtyLog log;
  REQUIRE(log.map(fd, 4096, 0));
  log.set_enabled(true);
  // A ring far from its buffers: each lives in its own page.
  f.vq.set_log(&log, true, f.r.device_event_gpa);
  f.r.add_chain(1, {{2048, true}});
  std::vector<uint8_t> payload(100, 0x42);
  iovec seg{payload.data(), payload.size()};
  port::Frame frame{&seg, 1, static_cast<uint32_t>(payload.size())};
  auto rx = std::make_unique<RxScratch>();
  NetQueueStats st;
  BurstResult r = net_rx_burst(f.vq, 12, false, 0, {&frame, 1}, *rx, st);
  CHECK(r.count == 1);
  CHECK(!r.broken());
  uint64_t buf = f.r.desc()[0].addr;  // used entry 0 kept the address the driver wrote
  CHECK(marked(buf));
  CHECK(marked(f.r.desc_gpa));
  f.vq.enable_notifications();
  CHECK(marked(f.r.device_event_gpa));
  munmap(view, 4096);
  close(fd);
}

TEST_CASE("packed: virtio-net TX and mergeable RX bursts") {
  Fixture f(16);
  uint8_t pkt[12 + 60] = {};
  for (int i = 0; i < 60; ++i) pkt[12 + i] = static_cast<uint8_t>(i);
  f.r.add_chain(4, {{12, false, pkt}, {60, false, pkt + 12}});
  f.r.add_chain(5, {{72, false, pkt}});
  f.r.add_chain(6, {{10, false, pkt}});  // too short: dropped, still returned
  auto tx = std::make_unique<TxScratch>();
  CopySink sink;
  NullPort from;
  NetQueueStats st;
  BurstResult r = net_tx_burst(f.vq, 12, NetOffloadFeatures{}, from, &sink, *tx, st);
  CHECK(r.count == 3);
  REQUIRE(sink.frames.size() == 2);
  CHECK(sink.frames[0] == std::vector<uint8_t>(pkt + 12, pkt + 72));
  CHECK(st.in_drop_too_short == 1);
  std::vector<uint16_t> ids;
  TestPackedRing::Used u;
  while (f.r.pop_used(&u)) ids.push_back(u.id);
  CHECK(ids == std::vector<uint16_t>{6, 4, 5});  // the drop completes before the lent frames

  // RX: a 1000-byte frame over 512-byte buffers takes two; a third buffer stays posted.
  Fixture g(16);
  for (uint16_t id = 20; id < 23; ++id) g.r.add_chain(id, {{512, true}});
  std::vector<uint8_t> big(1000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  iovec seg{big.data(), big.size()};
  port::Frame frame{&seg, 1, 1000};
  auto rx = std::make_unique<RxScratch>();
  r = net_rx_burst(g.vq, 12, true, 0, {&frame, 1}, *rx, st);
  CHECK(r.count == 1);
  REQUIRE(g.r.pop_used(&u));
  CHECK(u.id == 20);
  CHECK(u.len == 512);
  uint64_t first = g.r.desc()[0].addr;
  virtio::VirtioNetHdrV1 h;
  std::memcpy(&h, g.g.host(first), sizeof h);
  CHECK(h.num_buffers == 2);
  CHECK(std::memcmp(g.g.host(first) + 12, big.data(), 500) == 0);
  REQUIRE(g.r.pop_used(&u));
  CHECK(u.id == 21);
  CHECK(u.len == 1012 - 512);
  CHECK(!g.r.pop_used(&u));
  // Two more such frames: the first fits in what is left only partly, so it is un-popped.
  port::Frame two[2] = {frame, frame};
  r = net_rx_burst(g.vq, 12, true, 0, two, *rx, st);
  CHECK(r.count == 0);
  g.r.add_chain(23, {{512, true}});
  r = net_rx_burst(g.vq, 12, true, 0, two, *rx, st);
  CHECK(r.count == 1);
  REQUIRE(g.r.pop_used(&u));
  CHECK(u.id == 22);
}
