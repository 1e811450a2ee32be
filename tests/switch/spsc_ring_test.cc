// SPDX-License-Identifier: MIT
// SpscRing and FrameRing tests: single-threaded semantics and two-thread stress (run under TSan).
#include "switch/spsc_ring.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "switch/frame_ring.h"
#include "tests/switch/frame_builder.h"

namespace uvs::bridge {
namespace {

using test::Bytes;

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kStressItems = 300'000;
#else
constexpr uint64_t kStressItems = 5'000'000;
#endif

TEST_CASE("spsc: capacity rounds up to a power of two") {
  CHECK(SpscRing<int>(0).capacity() == 2);
  CHECK(SpscRing<int>(3).capacity() == 4);
  CHECK(SpscRing<int>(8).capacity() == 8);
  CHECK(SpscRing<int>(1000).capacity() == 1024);
}

TEST_CASE("spsc: FIFO order, full and empty, many wrap-arounds") {
  SpscRing<int> r(8);
  int out = -1;
  CHECK_FALSE(r.try_pop(out));
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 8; ++i) REQUIRE(r.try_push(round * 8 + i));
    CHECK_FALSE(r.try_push(-1));
    CHECK(r.free_count() == 0);
    CHECK(r.ready_count() == 8);
    for (int i = 0; i < 8; ++i) {
      REQUIRE(r.try_pop(out));
      CHECK(out == round * 8 + i);
    }
    CHECK_FALSE(r.try_pop(out));
  }
  // Interleaved: never more than 3 in flight.
  int next_in = 0, next_out = 0;
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(r.try_push(next_in++));
    if (i % 3 == 2) {
      while (r.try_pop(out)) CHECK(out == next_out++);
    }
  }
  while (r.try_pop(out)) CHECK(out == next_out++);
  CHECK(next_out == next_in);
}

TEST_CASE("spsc: filled slots are invisible until publish") {
  SpscRing<int> r(4);
  REQUIRE(r.free_count(3) >= 3);
  r.producer_slot(0) = 10;
  r.producer_slot(1) = 11;
  r.producer_slot(2) = 12;
  CHECK(r.ready_count() == 0);
  r.publish(2);
  CHECK(r.ready_count() == 2);
  CHECK(r.consumer_slot(0) == 10);
  CHECK(r.consumer_slot(1) == 11);
  r.release(1);
  CHECK(r.ready_count() == 1);
  CHECK(r.free_count() == 2);   // cached view of the consumer: enough for want=1
  CHECK(r.free_count(3) == 3);  // asking for more re-reads the consumer's index
  r.producer_slot(0) = 12;  // the unpublished slot is still the next one
  r.publish(1);
  int out = 0;
  REQUIRE(r.try_pop(out));
  CHECK(out == 11);
  REQUIRE(r.try_pop(out));
  CHECK(out == 12);
  CHECK(r.size_approx() == 0);
}

TEST_CASE("spsc: two-thread stress with batched publish and release") {
  SpscRing<uint64_t> r(256);
  std::thread producer([&] {
    std::mt19937 rng(1);
    uint64_t next = 0;
    while (next < kStressItems) {
      const size_t want = 1 + rng() % 40;
      const size_t free = r.free_count(want);
      const size_t n = size_t(std::min<uint64_t>({uint64_t(want), uint64_t(free), kStressItems - next}));
      for (size_t i = 0; i < n; ++i) r.producer_slot(i) = next++ * 2654435761u;
      r.publish(n);
      if (n == 0) std::this_thread::yield();
    }
  });
  std::mt19937 rng(2);
  uint64_t expect = 0;
  bool ok = true;
  while (expect < kStressItems) {
    const size_t want = 1 + rng() % 40;
    const size_t n = std::min(want, r.ready_count(want));
    for (size_t i = 0; i < n; ++i) {
      if (r.consumer_slot(i) != expect++ * 2654435761u) ok = false;
    }
    r.release(n);
    if (n == 0) std::this_thread::yield();
  }
  producer.join();
  CHECK(ok);
  CHECK(r.ready_count() == 0);
}

// ---- FrameRing ------------------------------------------------------------------------------

port::Frame as_frame(const Bytes& b, std::vector<iovec>& iov, size_t seg) {
  iov.clear();
  for (size_t off = 0; off < b.size(); off += seg) {
    iov.push_back(iovec{const_cast<uint8_t*>(b.data()) + off, std::min(seg, b.size() - off)});
  }
  return port::Frame{iov.data(), uint32_t(iov.size()), uint32_t(b.size())};
}

Bytes bytes_of(const port::Frame& f) {
  Bytes b(f.len);
  b.resize(f.copy_out(0, b.data(), b.size()));
  return b;
}

Bytes payload(size_t len, uint8_t seed) {
  Bytes b(len);
  for (size_t i = 0; i < len; ++i) b[i] = uint8_t(seed + i * 7);
  return b;
}

TEST_CASE("frame ring: frames of every size round-trip; runs group by port") {
  FrameRing ring(256);
  CHECK(ring.capacity() == 256);
  std::vector<iovec> iov;
  const std::vector<size_t> sizes = {14,   60,   1514, kFrameSlotData, kFrameSlotData + 1,
                                     9018, 4000, port::kMaxFrameLen};
  std::vector<Bytes> sent;
  for (size_t i = 0; i < sizes.size(); ++i) {
    sent.push_back(payload(sizes[i], uint8_t(i)));
    const uint16_t port = i < 3 ? 5 : 6;  // two runs
    REQUIRE(ring.push(as_frame(sent.back(), iov, 333), port, 9) == FrameRing::PushResult::kOk);
  }
  Bytes too_big = payload(port::kMaxFrameLen + 1, 0);
  CHECK(ring.push(as_frame(too_big, iov, 4096), 5, 9) == FrameRing::PushResult::kTooBig);

  port::Frame frames[port::kMaxBurst];
  std::vector<iovec> riov(port::kMaxBurst * kMaxSlotsPerFrame);
  CHECK(ring.peek_run(frames, riov).frames == 0);  // nothing published yet
  ring.publish();

  FrameRing::Run run = ring.peek_run(frames, riov);
  REQUIRE(run.frames == 3);
  CHECK(run.port == 5);
  CHECK(run.gen == 9);
  CHECK(run.slots == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(bytes_of(frames[i]) == sent[i]);
  ring.release(run.slots);

  run = ring.peek_run(frames, riov);
  REQUIRE(run.frames == sizes.size() - 3);
  CHECK(run.port == 6);
  for (size_t i = 3; i < sizes.size(); ++i) CHECK(bytes_of(frames[i - 3]) == sent[i]);
  CHECK(frames[0].iovcnt == 1);  // exactly one slot's worth
  CHECK(frames[1].iovcnt == 2);  // one byte more
  CHECK(frames[2].iovcnt == 5);  // 9018 bytes in 2016-byte slots
  CHECK(frames[run.frames - 1].iovcnt == kMaxSlotsPerFrame);  // the largest frame
  ring.release(run.slots);
  CHECK(ring.peek_run(frames, riov).frames == 0);
}

TEST_CASE("frame ring: offload metadata travels with each frame") {
  FrameRing ring(128);
  std::vector<iovec> iov;
  const Bytes big = payload(20000, 3), small = payload(60, 4);
  port::Frame f = as_frame(big, iov, 4096);
  f.ol.flags = port::Offload::kNeedsCsum;
  f.ol.gso = port::Offload::Gso::kTcpV6;
  f.ol.ecn = true;
  f.ol.gso_size = 1440;
  f.ol.hdr_len = 74;
  f.ol.csum_start = 54;
  f.ol.csum_offset = 16;
  REQUIRE(ring.push(f, 1, 1) == FrameRing::PushResult::kOk);
  REQUIRE(ring.push(as_frame(small, iov, 60), 1, 1) == FrameRing::PushResult::kOk);
  ring.publish();
  port::Frame frames[port::kMaxBurst];
  std::vector<iovec> riov(port::kMaxBurst * kMaxSlotsPerFrame);
  const FrameRing::Run run = ring.peek_run(frames, riov);
  REQUIRE(run.frames == 2);
  CHECK(bytes_of(frames[0]) == big);
  CHECK(frames[0].ol.flags == port::Offload::kNeedsCsum);
  CHECK(frames[0].ol.gso == port::Offload::Gso::kTcpV6);
  CHECK(frames[0].ol.ecn);
  CHECK(frames[0].ol.gso_size == 1440);
  CHECK(frames[0].ol.hdr_len == 74);
  CHECK(frames[0].ol.csum_start == 54);
  CHECK(frames[0].ol.csum_offset == 16);
  CHECK(frames[1].ol.plain());  // a plain frame stays plain
  ring.release(run.slots);
}

TEST_CASE("frame ring: a different generation starts a new run; full ring refuses") {
  FrameRing ring(128);
  std::vector<iovec> iov;
  const Bytes f = payload(1500, 1);
  REQUIRE(ring.push(as_frame(f, iov, 1500), 1, 1) == FrameRing::PushResult::kOk);
  REQUIRE(ring.push(as_frame(f, iov, 1500), 1, 2) == FrameRing::PushResult::kOk);
  size_t pushed = 2;
  while (ring.push(as_frame(f, iov, 1500), 1, 2) == FrameRing::PushResult::kOk) ++pushed;
  CHECK(pushed == 128);  // one slot each
  CHECK(ring.push(as_frame(f, iov, 1500), 1, 2) == FrameRing::PushResult::kFull);
  ring.publish();
  port::Frame frames[port::kMaxBurst];
  std::vector<iovec> riov(port::kMaxBurst * kMaxSlotsPerFrame);
  FrameRing::Run run = ring.peek_run(frames, riov);
  CHECK(run.frames == 1);
  CHECK(run.gen == 1);
  ring.release(run.slots);
  run = ring.peek_run(frames, riov);
  CHECK(run.frames == port::kMaxBurst);  // capped by the frames array
  CHECK(run.gen == 2);
  ring.release(run.slots);
  // Freed slots are reusable.
  CHECK(ring.push(as_frame(f, iov, 1500), 1, 2) == FrameRing::PushResult::kOk);
}

TEST_CASE("frame ring: two-thread stress keeps every byte and the order") {
  FrameRing ring(128);
  const uint64_t total = kStressItems / 100;
  std::thread producer([&] {
    std::mt19937 rng(3);
    std::vector<iovec> iov;
    uint64_t seq = 0;
    while (seq < total) {
      const size_t burst = 1 + rng() % 32;
      for (size_t i = 0; i < burst && seq < total; ++i) {
        const size_t len = rng() % 4 == 0 ? 3000 + rng() % 9000 : 60 + rng() % 1500;
        Bytes b = payload(len, uint8_t(seq));
        std::memcpy(b.data(), &seq, sizeof seq);
        if (ring.push(as_frame(b, iov, 1 + rng() % 700), uint16_t(seq % 3), 0) !=
            FrameRing::PushResult::kOk) {
          break;  // full: publish and retry this seq later
        }
        ++seq;
      }
      ring.publish();
      std::this_thread::yield();
    }
  });
  port::Frame frames[port::kMaxBurst];
  std::vector<iovec> riov(port::kMaxBurst * kMaxSlotsPerFrame);
  uint64_t expect = 0;
  bool ok = true;
  while (expect < total) {
    FrameRing::Run run = ring.peek_run(frames, riov);
    for (size_t i = 0; i < run.frames; ++i) {
      Bytes b = bytes_of(frames[i]);
      uint64_t seq = 0;
      std::memcpy(&seq, b.data(), sizeof seq);
      Bytes want = payload(b.size(), uint8_t(seq));
      std::memcpy(want.data(), &seq, sizeof seq);
      if (seq != expect || b != want || run.port != seq % 3) ok = false;
      ++expect;
    }
    ring.release(run.slots);
    if (run.frames == 0) std::this_thread::yield();
  }
  producer.join();
  CHECK(ok);
}

}  // namespace
}  // namespace uvs::bridge
