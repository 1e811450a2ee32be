// SPDX-License-Identifier: MIT
// Dirty logging for live migration: DirtyLog mapping and bounds, and the virtio-net data path
// marking exactly the guest pages it writes (RX buffers, used ring at log_guest_addr).
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <vector>

#include "netback/vhost/dirty_log.h"
#include "netback/vhost/net_datapath.h"
#include "netback/vhost/virtq.h"
#include "tests/netback/test_guest.h"

using namespace uvs;
using namespace uvs::netback;
using uvs::netback::test::TestGuest;
using uvs::netback::test::TestRing;

namespace {

/// A memfd of `file_size` bytes standing in for the frontend's log, and our view of it.
struct LogFile {
  int fd = -1;
  uint8_t* view = nullptr;
  size_t size = 0;
  explicit LogFile(size_t file_size) : size(file_size) {
    fd = memfd_create("uvs-test-log", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, static_cast<off_t>(size)) == 0);
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(p != MAP_FAILED);
    view = static_cast<uint8_t*>(p);
  }
  ~LogFile() {
    munmap(view, size);
    close(fd);
  }
  /// Pages whose bit is set, from byte `offset` of the file on.
  std::set<uint64_t> pages(size_t offset = 0) const {
    std::set<uint64_t> out;
    for (size_t i = offset; i < size; ++i) {
      for (int b = 0; b < 8; ++b) {
        if (view[i] & (1u << b)) out.insert((i - offset) * 8 + b);
      }
    }
    return out;
  }
  void clear() { std::memset(view, 0, size); }
};

uint64_t page(uint64_t gpa) { return gpa / kLogPageSize; }

/// Pages of [gpa, gpa + len).
void add_pages(std::set<uint64_t>& s, uint64_t gpa, uint64_t len) {
  for (uint64_t p = page(gpa); p <= page(gpa + len - 1); ++p) s.insert(p);
}

}  // namespace

TEST_CASE("DirtyLog: maps the fd range, marks on flush, refuses what would SIGBUS") {
  LogFile f(8192);
  DirtyLog log;
  DirtyLogBatch batch;  // what one ring gathers
  batch.attach(&log);
  SUBCASE("a short fd is refused before mapping") {
    Status s = log.map(f.fd, 8192, 4096);  // needs 12288 bytes
    CHECK_FALSE(s);
    CHECK(s.to_string().find("only 8192") != std::string::npos);
    CHECK_FALSE(log.mapped());
    CHECK_FALSE(log.map(f.fd, 0, 0));
    CHECK_FALSE(log.map(f.fd, kMaxLogSize + 1, 0));
    CHECK_FALSE(log.map(f.fd, 16, ~uint64_t{0} - 8));
  }
  SUBCASE("marks only while enabled, at the offset, one bit per 4 KiB page") {
    REQUIRE(log.map(f.fd, 4096, 4096));
    CHECK(log.mapped());
    CHECK_FALSE(log.active());
    CHECK(batch.mark(0, 4096));  // not enabled: nothing
    CHECK(f.pages().empty());
    log.set_enabled(true);
    CHECK(log.active());
    CHECK(batch.mark(0x3000, 1));
    CHECK(batch.mark(0x4fff, 2));  // straddles pages 4 and 5
    CHECK(batch.mark(0x10000, 0x2000));
    CHECK(batch.mark(0x3010, 8));  // gathered once
    CHECK(f.pages().empty());    // until the flush
    batch.flush();
    CHECK(f.pages(4096) == std::set<uint64_t>{3, 4, 5, 0x10, 0x11});
    CHECK(f.pages(0).size() == 5);  // nothing before the offset
    log.set_enabled(false);
    f.clear();
    CHECK(batch.mark(0x3000, 1));
    CHECK(f.pages().empty());
  }
  SUBCASE("a page past the log or a wrapping range overflows, marking nothing") {
    REQUIRE(log.map(f.fd, 16, 0));  // 128 pages
    log.set_enabled(true);
    CHECK(batch.mark(127 * kLogPageSize, 4096));
    CHECK_FALSE(batch.overflowed());
    CHECK_FALSE(batch.mark(127 * kLogPageSize, 4097));
    CHECK(batch.overflowed());
    REQUIRE(log.map(f.fd, 16, 0));
    batch.attach(&log);  // a new log for the ring clears the condition
    CHECK_FALSE(batch.overflowed());
    CHECK_FALSE(batch.mark(~uint64_t{0} - 2, 8));
    CHECK(batch.overflowed());
  }
  SUBCASE("more pages than a burst gathers: flushed as they come, none lost") {
    REQUIRE(log.map(f.fd, 4096, 0));
    log.set_enabled(true);
    std::set<uint64_t> want;
    for (uint64_t p = 0; p < 300; p += 3) {
      CHECK(batch.mark(p * kLogPageSize, 1));
      want.insert(p);
    }
    batch.flush();
    CHECK(f.pages() == want);
  }
  SUBCASE("enabled before the log arrives: active once mapped (QEMU's vhost_dev_start order)") {
    log.set_enabled(true);
    CHECK_FALSE(log.active());
    CHECK(batch.mark(0, 1));  // nowhere to log, and not an error
    REQUIRE(log.map(f.fd, 64, 0));
    CHECK(log.active());
    log.unmap();
    CHECK_FALSE(log.active());
  }
}

namespace {

/// One RX ring in a test guest with a dirty log covering it.
struct LoggedRing {
  TestGuest guest{2 << 20};
  TestRing ring{guest, 16, 0};
  LogFile file{4096};
  DirtyLog log;
  Virtq vq;
  std::unique_ptr<RxScratch> rx = std::make_unique<RxScratch>();
  std::unique_ptr<TxScratch> tx = std::make_unique<TxScratch>();
  NetQueueStats stats;

  explicit LoggedRing(bool log_used, uint64_t log_size = 4096) {
    REQUIRE(vq.setup(&guest.gm, ring.layout(), 0, {}));
    REQUIRE(log.map(file.fd, log_size, 0));
    log.set_enabled(true);
    vq.set_log(&log, log_used, ring.used_gpa);
  }

  BurstResult receive(std::vector<uint32_t> lens) {
    std::vector<std::vector<uint8_t>> data;
    std::vector<iovec> iov(lens.size());
    std::vector<port::Frame> frames(lens.size());
    for (size_t i = 0; i < lens.size(); ++i) {
      data.emplace_back(lens[i], static_cast<uint8_t>(0x40 + i));
      iov[i] = {data[i].data(), lens[i]};
      frames[i] = port::Frame{&iov[i], 1, lens[i]};
    }
    return net_rx_burst(vq, 12, false, 0, frames, *rx, stats);
  }
};

}  // namespace

TEST_CASE("RX burst marks exactly the buffer bytes written and the used ring") {
  LoggedRing r(/*log_used=*/true);
  // 3000-byte buffers from a page boundary: the second straddles two pages, the fourth (unused)
  // lies in a page nothing else touches.
  std::vector<uint64_t> buf;
  for (int i = 0; i < 4; ++i) {
    uint16_t head = r.ring.add_chain({{3000, true}});
    buf.push_back(r.ring.desc()[head].addr);
  }
  REQUIRE(buf[0] % kLogPageSize == 0);
  BurstResult res = r.receive({60, 1500});
  REQUIRE(res.count == 2);
  CHECK_FALSE(res.broken());
  std::set<uint64_t> want;
  add_pages(want, buf[0], 12 + 60);
  add_pages(want, buf[1], 12 + 1500);
  add_pages(want, r.ring.used_gpa, 4 + 2 * 8);  // flags/idx and two elements
  CHECK(r.file.pages() == want);
  CHECK(r.file.pages().count(page(buf[3])) == 0);
  CHECK(r.ring.used_idx() == 2);
}

TEST_CASE("the used ring is logged at log_guest_addr, and only with VHOST_VRING_F_LOG") {
  SUBCASE("without the flag: buffers only") {
    LoggedRing r(/*log_used=*/false);
    uint16_t head = r.ring.add_chain({{2048, true}});
    REQUIRE(r.receive({100}).count == 1);
    std::set<uint64_t> want;
    add_pages(want, r.ring.desc()[head].addr, 112);
    CHECK(r.file.pages() == want);
  }
  SUBCASE("with the flag, at the address the frontend gave") {
    LoggedRing r(/*log_used=*/true);
    const uint64_t log_addr = 0x7000;  // need not be the ring's own address, nor guest memory
    r.vq.set_log(&r.log, true, log_addr);
    uint16_t head = r.ring.add_chain({{2048, true}});
    REQUIRE(r.receive({100}).count == 1);
    std::set<uint64_t> want{page(log_addr)};
    add_pages(want, r.ring.desc()[head].addr, 112);
    CHECK(r.file.pages() == want);
  }
  SUBCASE("notification suppression stores are used-ring stores too") {
    LoggedRing r(/*log_used=*/true);
    r.vq.disable_notifications();
    CHECK(r.file.pages() == std::set<uint64_t>{page(r.ring.used_gpa)});
  }
}

TEST_CASE("TX burst logs its used ring, never the buffers it only read") {
  LoggedRing r(/*log_used=*/true);
  std::vector<uint8_t> frame(12 + 100, 0);
  std::memset(frame.data() + 12, 0xff, 6);
  uint16_t head = r.ring.add_chain({{uint32_t(frame.size()), false, frame.data()}});
  struct Null final : port::FrameSink {
    void receive_burst(port::Port&, std::span<const port::Frame>) noexcept override {}
  } sink;
  struct NullPort final : port::Port {
    size_t send_burst(std::span<const port::Frame> f) noexcept override { return f.size(); }
    void set_sink(port::FrameSink*) noexcept override {}
    std::string_view name() const noexcept override { return "null"; }
    port::PortState state() const noexcept override { return port::PortState::kUp; }
  } from;
  BurstResult res = net_tx_burst(r.vq, 12, {}, from, &sink, *r.tx, r.stats);
  CHECK(res.count == 1);
  CHECK(r.file.pages() == std::set<uint64_t>{page(r.ring.used_gpa)});
  CHECK(r.file.pages().count(page(r.ring.desc()[head].addr)) == 0);
}

TEST_CASE("logging off: nothing marked; a page outside the log breaks the burst") {
  SUBCASE("LOG_ALL dropped") {
    LoggedRing r(/*log_used=*/true);
    r.log.set_enabled(false);
    r.ring.add_chain({{2048, true}});
    REQUIRE(r.receive({100}).count == 1);
    CHECK(r.file.pages().empty());
  }
  SUBCASE("log too small for the guest's buffers") {
    // The guest starts at 1 MiB (page 256): a 16-byte log covers pages 0..127 only.
    LoggedRing r(/*log_used=*/false, 16);
    r.ring.add_chain({{2048, true}});
    BurstResult res = r.receive({100});
    CHECK(res.broken());
    CHECK(std::string(res.reason).find("dirty log") != std::string::npos);
    CHECK(r.file.pages().empty());
  }
}
