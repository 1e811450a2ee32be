// SPDX-License-Identifier: MIT
// GuestMemory: region validation, bounds-checked and overflow-safe translation, region crossing.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "netback/vhost/guest_memory.h"
#include "tests/netback/test_guest.h"

using namespace uvs::netback;
using uvs::netback::test::TestGuest;

TEST_CASE("gpa translation inside a region returns the contiguous length") {
  TestGuest g(1 << 16);
  g.mem[100] = 0xab;
  uint64_t len = 50;
  auto* p = static_cast<uint8_t*>(g.gm.gpa_to_host(TestGuest::kGpa + 100, &len));
  REQUIRE(p);
  CHECK(len == 50);
  CHECK(*p == 0xab);  // same memfd, different mapping
  p[1] = 0xcd;
  CHECK(g.mem[101] == 0xcd);

  // Clamped at the end of the region.
  len = 1000;
  CHECK(g.gm.gpa_to_host(TestGuest::kGpa + (1 << 16) - 10, &len));
  CHECK(len == 10);
}

TEST_CASE("gpa outside every region, zero length, and wrap-around fail") {
  TestGuest g(1 << 16);
  uint64_t len = 1;
  CHECK(g.gm.gpa_to_host(TestGuest::kGpa - 1, &len) == nullptr);
  CHECK(g.gm.gpa_to_host(TestGuest::kGpa + (1 << 16), &len) == nullptr);
  CHECK(g.gm.gpa_to_host(0, &len) == nullptr);
  CHECK(g.gm.gpa_to_host(~uint64_t{0}, &len) == nullptr);
  len = 0;
  CHECK(g.gm.gpa_to_host(TestGuest::kGpa, &len) == nullptr);

  iovec iov[4];
  CHECK(g.gm.gpa_to_iov(TestGuest::kGpa, 0, iov, 4) == -1);
  // gpa + len wraps 2^64: must fail even though the start is mapped.
  CHECK(g.gm.gpa_to_iov(TestGuest::kGpa + 8, ~uint64_t{0} - 4, iov, 4) == -1);
  // Runs past the end of the region into unmapped space.
  CHECK(g.gm.gpa_to_iov(TestGuest::kGpa + (1 << 16) - 8, 16, iov, 4) == -1);
  CHECK(g.gm.gpa_to_iov(TestGuest::kGpa + 8, 16, iov, 4) == 1);
  CHECK(iov[0].iov_len == 16);
}

TEST_CASE("a buffer crossing two adjacent regions becomes two segments") {
  std::vector<uint8_t> a(4096), b(4096);
  GuestMemory gm;
  REQUIRE(gm.add_unowned_region({0x1000, 4096, 0x10000, 0}, a.data()));
  REQUIRE(gm.add_unowned_region({0x2000, 4096, 0x20000, 0}, b.data()));
  iovec iov[2];
  int n = gm.gpa_to_iov(0x1000 + 4000, 200, iov, 2);
  REQUIRE(n == 2);
  CHECK(iov[0].iov_base == a.data() + 4000);
  CHECK(iov[0].iov_len == 96);
  CHECK(iov[1].iov_base == b.data());
  CHECK(iov[1].iov_len == 104);

  bool more = false;
  CHECK(gm.gpa_to_iov(0x1000 + 4000, 200, iov, 1, &more) == -1);
  CHECK(more);

  // uva translation never spans regions, even adjacent ones in user space.
  GuestMemory gm2;
  REQUIRE(gm2.add_unowned_region({0x1000, 4096, 0x10000, 0}, a.data()));
  REQUIRE(gm2.add_unowned_region({0x2000, 4096, 0x11000, 0}, b.data()));
  CHECK(gm2.uva_to_host(0x10000 + 4000, 96) == a.data() + 4000);
  CHECK(gm2.uva_to_host(0x10000 + 4000, 97) == nullptr);
  CHECK(gm2.uva_to_host(0x11000, 4096) == b.data());
  CHECK(gm2.uva_to_host(0x11000, 4097) == nullptr);
  CHECK(gm2.uva_to_host(0xffff, 1) == nullptr);
  CHECK(gm2.uva_to_host(0x10000, 0) == nullptr);
  CHECK(gm2.uva_to_host(~uint64_t{0}, 2) == nullptr);
}

TEST_CASE("region validation rejects empty, wrapping, overlapping and too many regions") {
  std::vector<uint8_t> buf(4096);
  GuestMemory gm;
  CHECK(!gm.add_unowned_region({0x1000, 0, 0x10000, 0}, buf.data()));
  CHECK(!gm.add_unowned_region({~uint64_t{0} - 10, 4096, 0x10000, 0}, buf.data()));
  CHECK(!gm.add_unowned_region({0x1000, 4096, ~uint64_t{0} - 10, 0}, buf.data()));
  REQUIRE(gm.add_unowned_region({0x1000, 4096, 0x10000, 0}, buf.data()));
  Status s = gm.add_unowned_region({0x1800, 4096, 0x90000, 0}, buf.data());
  CHECK(!s);
  CHECK(s.code == NetbackError::kMemory);
  CHECK(!gm.add_unowned_region({0x9000, 4096, 0x10800, 0}, buf.data()));
  CHECK(gm.region_count() == 1);
  for (uint32_t i = 1; i < kMaxMemSlots; ++i) {
    REQUIRE(gm.add_unowned_region({0x100000ull * i, 16, 0x1000000ull * i, 0}, buf.data()));
  }
  CHECK(!gm.add_unowned_region({0xf0000000, 16, 0xf0000000, 0}, buf.data()));
  CHECK(gm.region_count() == kMaxMemSlots);
}

TEST_CASE("remove_region matches gpa/size/uva and translation stops working") {
  std::vector<uint8_t> a(4096), b(4096);
  GuestMemory gm;
  REQUIRE(gm.add_unowned_region({0x1000, 4096, 0x10000, 0}, a.data()));
  REQUIRE(gm.add_unowned_region({0x8000, 4096, 0x80000, 0}, b.data()));
  uint64_t len = 4;
  CHECK(gm.gpa_to_host(0x8000, &len) == b.data());  // last-hit cache now points at region 1
  CHECK(!gm.remove_region({0x8000, 4095, 0x80000, 0}));
  CHECK(gm.remove_region({0x8000, 4096, 0x80000, 1234}));
  len = 4;
  CHECK(gm.gpa_to_host(0x8000, &len) == nullptr);
  CHECK(gm.gpa_to_host(0x1000, &len) == a.data());
  gm.clear();
  CHECK(gm.gpa_to_host(0x1000, &len) == nullptr);
}

TEST_CASE("add_region with a non-zero mmap offset maps the right bytes; a bad fd fails") {
  TestGuest g(1 << 16);
  g.mem[8192 + 5] = 0x77;
  GuestMemory gm;
  REQUIRE(gm.add_region({0x40000, 4096, 0x50000, 8192}, g.fd));
  uint64_t len = 1;
  auto* p = static_cast<uint8_t*>(gm.gpa_to_host(0x40005, &len));
  REQUIRE(p);
  CHECK(*p == 0x77);
  Status s = gm.add_region({0x90000, 4096, 0x90000, 0}, -1);
  CHECK(!s);
  CHECK(s.err == EBADF);
}

TEST_CASE("a region fd shorter than offset + size is refused; a sealable memfd is sealed") {
  // Mapping it would succeed, and the first touch of a page past the file's end would raise
  // SIGBUS in the whole process.
  const int fd = ::memfd_create("short", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, 8192) == 0);
  GuestMemory gm;
  Status s = gm.add_region({0x40000, 8192, 0x50000, 4096}, fd);  // needs 12288 bytes
  CHECK(!s);
  CHECK(s.code == NetbackError::kMemory);
  CHECK(s.message.find("needs 12288 bytes") != std::string::npos);
  CHECK(s.message.find("only 8192") != std::string::npos);
  CHECK(gm.region_count() == 0);

  // Exactly long enough: mapped, and sealed so that the frontend cannot cut it later.
  CHECK((::fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK) == 0);
  REQUIRE(gm.add_region({0x40000, 4096, 0x50000, 4096}, fd));
  CHECK((::fcntl(fd, F_GET_SEALS) & F_SEAL_SHRINK) != 0);
  CHECK(::ftruncate(fd, 4096) != 0);
  CHECK(errno == EPERM);
  ::close(fd);
}

TEST_CASE("the same region added again takes a reference; the last remove unmaps it") {
  // A multi-queue QEMU before 8.0 sends ADD_MEM_REG / REM_MEM_REG once per queue pair.
  std::vector<uint8_t> a(4096), other(4096);
  GuestMemory gm;
  REQUIRE(gm.add_unowned_region({0x1000, 4096, 0x10000, 0}, a.data()));
  REQUIRE(gm.add_unowned_region({0x1000, 4096, 0x10000, 0}, other.data()));
  CHECK(gm.region_count() == 1);
  uint64_t len = 4;
  CHECK(gm.gpa_to_host(0x1000, &len) == a.data());  // the first mapping stays
  // Only an identical region is shared: an overlapping different one is still refused.
  CHECK(!gm.add_unowned_region({0x1000, 8192, 0x10000, 0}, other.data()));
  CHECK(gm.remove_region({0x1000, 4096, 0x10000, 0}));
  len = 4;
  CHECK(gm.gpa_to_host(0x1000, &len) == a.data());
  CHECK(gm.remove_region({0x1000, 4096, 0x10000, 0}));
  len = 4;
  CHECK(gm.gpa_to_host(0x1000, &len) == nullptr);
  CHECK(!gm.remove_region({0x1000, 4096, 0x10000, 0}));
}
