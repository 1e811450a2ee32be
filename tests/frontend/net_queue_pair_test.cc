// SPDX-License-Identifier: MIT
// NetQueuePair against a test device: TX layouts, ring-full, kicks, RX merging, call waits.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "netback/frontend/net_queue_pair.h"
#include "tests/frontend/ring_device.h"

namespace v = uvs::netback::virtio;
using uvs::frontend::GuestRam;
using uvs::frontend::NetQueuePair;
using uvs::frontend::QueuePairConfig;
using uvs::frontend::RegionSpec;
using uvs::frontend::RxFrame;
using uvs::frontend::RxLayout;
using uvs::frontend::TxLayout;
using uvs::frontend::test::DevChain;
using uvs::frontend::test::RingDevice;

namespace {

struct Pair {
  GuestRam ram;
  NetQueuePair qp;
  explicit Pair(QueuePairConfig cfg) {
    RegionSpec specs[] = {{0, 4 << 20, 0}, {uint64_t{1} << 32, 4 << 20, 2 << 20}};
    REQUIRE(ram.map(specs).ok());
    REQUIRE(qp.init(ram, cfg).ok());
  }
};

std::vector<uint8_t> make_frame(uint32_t len, uint8_t seed) {
  std::vector<uint8_t> f(len);
  for (uint32_t i = 0; i < len; ++i) f[i] = static_cast<uint8_t>(seed + i * 7);
  return f;
}

uint64_t read_eventfd(int fd) {
  uint64_t v = 0;
  return ::read(fd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

}  // namespace

TEST_CASE("every TX layout carries a zeroed header and the frame bytes") {
  struct Case {
    TxLayout layout;
    size_t segs;
    bool indirect;
  } cases[] = {{TxLayout::kSingle, 1, false},
               {TxLayout::kHeaderSeparate, 2, false},
               {TxLayout::kScatter, 5, false},
               {TxLayout::kIndirect, 5, true}};
  for (const Case& c : cases) {
    CAPTURE(static_cast<int>(c.layout));
    QueuePairConfig cfg;
    cfg.queue_size = 64;
    cfg.tx_layout = c.layout;
    Pair p(cfg);
    RingDevice dev(p.ram, p.qp.tx());
    auto f1 = make_frame(60, 1);
    auto f2 = make_frame(1514, 2);
    std::span<const uint8_t> frames[] = {f1, f2};
    CHECK(p.qp.send(frames) == 2);
    for (const auto& want : {f1, f2}) {
      DevChain ch;
      REQUIRE(dev.pop(&ch));
      CHECK(ch.segs.size() == c.segs);
      CHECK(ch.indirect == c.indirect);
      auto bytes = dev.gather(ch);
      REQUIRE(bytes.size() == v::kNetHdrLen + want.size());
      CHECK(std::all_of(bytes.begin(), bytes.begin() + v::kNetHdrLen, [](uint8_t b) { return b == 0; }));
      CHECK(std::equal(want.begin(), want.end(), bytes.begin() + v::kNetHdrLen));
      for (const auto& s : ch.segs) CHECK_FALSE(s.writable);
    }
  }
}

TEST_CASE("TX stops at a full ring or an oversized frame and recycles completed slots") {
  QueuePairConfig cfg;
  cfg.queue_size = 8;
  cfg.tx_layout = TxLayout::kHeaderSeparate;  // two descriptors per frame: 4 fit
  Pair p(cfg);
  RingDevice dev(p.ram, p.qp.tx());
  auto f = make_frame(100, 3);
  std::vector<std::span<const uint8_t>> burst(6, f);
  CHECK(p.qp.send(burst) == 4);
  CHECK(p.qp.stats().tx_ring_full == 1);
  CHECK(p.qp.send(burst) == 0);
  // The device completes two: two more fit.
  DevChain ch;
  for (int i = 0; i < 2; ++i) {
    REQUIRE(dev.pop(&ch));
    dev.push_used(ch.head, 0);
  }
  dev.flush();
  CHECK(p.qp.send(burst) == 2);
  CHECK(p.qp.stats().tx_completed == 2);

  auto big = make_frame(cfg.tx_buf_len, 4);  // + header does not fit a slot
  std::span<const uint8_t> one[] = {big};
  CHECK(p.qp.send(one) == 0);
  CHECK(p.qp.stats().tx_too_big == 1);
}

TEST_CASE("TX kicks once per burst, and only when the device asks (EVENT_IDX)") {
  QueuePairConfig cfg;
  cfg.queue_size = 64;
  cfg.event_idx = true;
  Pair p(cfg);
  RingDevice dev(p.ram, p.qp.tx());
  auto f = make_frame(60, 5);
  std::vector<std::span<const uint8_t>> burst(8, f);
  dev.set_avail_event(0);
  CHECK(p.qp.send(burst) == 8);
  CHECK(p.qp.stats().tx_kicks == 1);  // one kick for 8 frames
  CHECK(read_eventfd(p.qp.tx_kick_fd()) == 1);
  // The device is polling and has not re-armed: no kick, no syscall.
  CHECK(p.qp.send(burst) == 8);
  CHECK(p.qp.stats().tx_kicks == 1);
  dev.set_avail_event(20);  // re-armed at 20: the burst 16 -> 24 crosses it
  CHECK(p.qp.send(burst) == 8);
  CHECK(p.qp.stats().tx_kicks == 2);
}

TEST_CASE("RX buffers are posted at restart and frames come back whole") {
  for (RxLayout layout : {RxLayout::kSingle, RxLayout::kHeaderSeparate, RxLayout::kIndirect}) {
    CAPTURE(static_cast<int>(layout));
    QueuePairConfig cfg;
    cfg.queue_size = 16;
    cfg.rx_layout = layout;
    Pair p(cfg);
    RingDevice dev(p.ram, p.qp.rx());
    const uint32_t posted = layout == RxLayout::kHeaderSeparate ? 8 : 16;
    CHECK(p.qp.rx().avail_idx() == posted);
    p.qp.rx().publish();
    auto frame = make_frame(1000, 9);
    std::vector<uint8_t> pkt(v::kNetHdrLen, 0);
    pkt[10] = 1;  // num_buffers
    pkt.insert(pkt.end(), frame.begin(), frame.end());
    for (int i = 0; i < 3; ++i) {
      DevChain ch;
      REQUIRE(dev.pop(&ch));
      for (const auto& s : ch.segs) CHECK(s.writable);
      uint32_t n = dev.scatter(ch, pkt.data(), static_cast<uint32_t>(pkt.size()));
      REQUIRE(n == pkt.size());
      dev.push_used(ch.head, n);
    }
    dev.flush();
    std::vector<uint8_t> store(3 * 2048);
    RxFrame out[4];
    for (int i = 0; i < 4; ++i) {
      out[i].data = store.data() + i * 1536;
      out[i].capacity = i == 2 ? 100 : 1536;  // the third one is truncated
    }
    REQUIRE(p.qp.receive({out, 4}, 0) == 3);
    CHECK(out[0].len == 1000);
    CHECK(std::equal(frame.begin(), frame.end(), out[0].data));
    CHECK(out[2].truncated);
    CHECK(std::equal(frame.begin(), frame.begin() + 100, out[2].data));
    CHECK(p.qp.stats().rx_frames == 3);
    // The three buffers went straight back on the ring.
    CHECK(p.qp.rx().avail_idx() == posted + 3);
  }
}

TEST_CASE("mergeable RX reassembles a frame spread over num_buffers small buffers") {
  QueuePairConfig cfg;
  cfg.queue_size = 32;
  cfg.rx_buf_len = 128;
  cfg.mergeable = true;
  Pair p(cfg);
  RingDevice dev(p.ram, p.qp.rx());
  p.qp.rx().publish();
  auto frame = make_frame(300, 11);  // 12 + 300 bytes = 3 buffers of 128
  std::vector<uint8_t> pkt(v::kNetHdrLen, 0);
  pkt.insert(pkt.end(), frame.begin(), frame.end());
  pkt[10] = 3;
  uint32_t off = 0;
  for (int b = 0; b < 3; ++b) {
    DevChain ch;
    REQUIRE(dev.pop(&ch));
    uint32_t n = dev.scatter(ch, pkt.data() + off, static_cast<uint32_t>(pkt.size()) - off);
    off += n;
    dev.push_used(ch.head, n);
    if (b == 1) {
      // Only two of three published: the frame must not be handed out half-done.
      dev.flush();
      std::vector<uint8_t> buf(2048);
      RxFrame out{buf.data(), 2048};
      CHECK(p.qp.receive({&out, 1}, 0) == 0);
    }
  }
  dev.flush();
  std::vector<uint8_t> buf(2048);
  RxFrame out{buf.data(), 2048};
  REQUIRE(p.qp.receive({&out, 1}, 0) == 1);
  CHECK(out.num_buffers == 3);
  CHECK(out.len == 300);
  CHECK(std::equal(frame.begin(), frame.end(), buf.begin()));
}

TEST_CASE("receive sleeps on the call eventfd and wakes when the device signals") {
  QueuePairConfig cfg;
  cfg.queue_size = 16;
  cfg.event_idx = true;
  Pair p(cfg);
  RingDevice dev(p.ram, p.qp.rx());
  p.qp.rx().publish();
  std::vector<uint8_t> buf(2048);
  RxFrame out{buf.data(), 2048};

  auto t0 = std::chrono::steady_clock::now();
  CHECK(p.qp.receive({&out, 1}, 50) == 0);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(45));

  std::thread device([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    DevChain ch;
    REQUIRE(dev.pop(&ch));
    std::vector<uint8_t> pkt(v::kNetHdrLen + 64, 0x5a);
    pkt[10] = 1;
    pkt[11] = 0;
    dev.push_used(ch.head, dev.scatter(ch, pkt.data(), static_cast<uint32_t>(pkt.size())));
    // The driver enabled interrupts before sleeping, so the device must be told to signal.
    CHECK(dev.flush());
    uint64_t one = 1;
    CHECK(::write(p.qp.rx_call_fd(), &one, sizeof(one)) == 8);
  });
  CHECK(p.qp.receive({&out, 1}, 5000) == 1);
  device.join();
  CHECK(out.len == 64);
  CHECK(p.qp.stats().rx_calls == 1);
}
