// SPDX-License-Identifier: MIT
// CaptureQueue: records come out whole and in order across wrap-arounds, full means nullptr, and
// a producer and consumer thread agree (run under TSan).
#include "switch/capture_queue.h"

#include <doctest/doctest.h>

#include <cstring>
#include <thread>
#include <vector>

using uvs::bridge::CaptureQueue;
using uvs::bridge::CaptureRecord;

namespace {

// A record whose bytes all equal its sequence number's low byte.
bool push(CaptureQueue& q, uint32_t seq, uint32_t caplen) {
  uint8_t* d = q.reserve(caplen);
  if (!d) return false;
  std::memset(d, int(seq & 0xff), caplen);
  q.commit(CaptureRecord{int64_t(seq), caplen, caplen + 7});
  return true;
}

bool pop_check(CaptureQueue& q, uint32_t seq, uint32_t caplen) {
  CaptureRecord r{};
  const uint8_t* d = nullptr;
  if (!q.front(&r, &d)) return false;
  bool ok = r.ts_ns == int64_t(seq) && r.caplen == caplen && r.len == caplen + 7;
  for (uint32_t i = 0; i < caplen && ok; ++i) ok = d[i] == uint8_t(seq & 0xff);
  q.pop();
  return ok;
}

}  // namespace

TEST_CASE("records of varying size survive many wrap-arounds, in order") {
  CaptureQueue q(64 << 10);
  REQUIRE(q.capacity() == (64u << 10));
  uint32_t next_in = 0, next_out = 0;
  // Sizes that are not multiples of 8 exercise the padding; 3 at a time in flight keeps the
  // queue partly full so wraps land everywhere.
  for (int round = 0; round < 3000; ++round) {
    for (int k = 0; k < 3; ++k) {
      const uint32_t len = 60 + (next_in * 37) % 1500;
      REQUIRE(push(q, next_in, len));
      ++next_in;
    }
    q.publish();
    for (int k = 0; k < 3; ++k) {
      const uint32_t len = 60 + (next_out * 37) % 1500;
      REQUIRE(pop_check(q, next_out, len));
      ++next_out;
    }
    q.release();
  }
  CaptureRecord r{};
  const uint8_t* d = nullptr;
  CHECK_FALSE(q.front(&r, &d));
}

TEST_CASE("a full queue refuses, and released space is reused") {
  CaptureQueue q(64 << 10);
  // 16-byte header + 1008 bytes = 1 KiB per record: exactly 64 fit.
  int n = 0;
  while (push(q, uint32_t(n), 1008)) ++n;
  CHECK(n == 64);
  q.publish();
  CHECK_FALSE(push(q, 99, 1));  // nothing fits, not even a tiny record
  // Unpublished-but-popped space is not free until release().
  REQUIRE(pop_check(q, 0, 1008));
  CHECK_FALSE(push(q, 99, 1008));
  q.release();
  CHECK(push(q, 64, 1008));
  // A record bigger than the whole buffer never fits.
  CHECK(q.reserve(uint32_t(q.capacity())) == nullptr);
}

TEST_CASE("unpublished records are invisible to the consumer") {
  CaptureQueue q(64 << 10);
  REQUIRE(push(q, 1, 100));
  CaptureRecord r{};
  const uint8_t* d = nullptr;
  CHECK_FALSE(q.front(&r, &d));
  q.publish();
  CHECK(q.front(&r, &d));
}

TEST_CASE("a producer and a consumer thread pass 200000 records in order") {
  CaptureQueue q(64 << 10);
  constexpr uint32_t kCount = 200000;
  std::thread producer([&] {
    for (uint32_t i = 0; i < kCount;) {
      if (push(q, i, 64 + i % 200)) {
        ++i;
        if (i % 8 == 0) q.publish();
      } else {
        q.publish();
        std::this_thread::yield();
      }
    }
    q.publish();
  });
  uint32_t got = 0;
  bool in_order = true;
  while (got < kCount) {
    CaptureRecord r{};
    const uint8_t* d = nullptr;
    if (!q.front(&r, &d)) {
      q.release();
      std::this_thread::yield();
      continue;
    }
    in_order = in_order && r.ts_ns == int64_t(got) && r.caplen == 64 + got % 200 &&
               d[0] == uint8_t(got & 0xff) && d[r.caplen - 1] == uint8_t(got & 0xff);
    q.pop();
    ++got;
  }
  q.release();
  producer.join();
  CHECK(in_order);
  CHECK(got == kCount);
}
