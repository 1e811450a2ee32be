// SPDX-License-Identifier: MIT
// GuestRam: region validation, translation bounds, allocation, and memfd sharing with a backend.
#include <doctest/doctest.h>
#include <sys/mman.h>

#include <cstring>

#include "netback/frontend/guest_ram.h"

using uvs::frontend::FrontendError;
using uvs::frontend::GuestRam;
using uvs::frontend::RegionSpec;

TEST_CASE("GuestRam translates only ranges wholly inside one region") {
  GuestRam ram;
  RegionSpec specs[] = {{0, 1 << 20, 0}, {uint64_t{1} << 32, 1 << 20, 2 << 20}};
  REQUIRE(ram.map(specs).ok());
  REQUIRE(ram.regions().size() == 2);

  CHECK(ram.host(0, 1) != nullptr);
  CHECK(ram.host(0, 1 << 20) != nullptr);
  CHECK(ram.host(0, (1 << 20) + 1) == nullptr);       // one byte past the end
  CHECK(ram.host((1 << 20) - 1, 1) != nullptr);
  CHECK(ram.host(1 << 20, 1) == nullptr);              // the gap between regions
  CHECK(ram.host((uint64_t{1} << 32) - 4, 8) == nullptr);  // straddles into region 1's start
  CHECK(ram.host(uint64_t{1} << 32, 16) != nullptr);
  CHECK(ram.host(~uint64_t{0} - 2, 16) == nullptr);   // wraps around 2^64
  CHECK(ram.host(ram.unmapped_gpa(), 1) == nullptr);

  // The userspace address is our own pointer, as QEMU's is its own.
  CHECK(ram.user_addr(0x100) == reinterpret_cast<uint64_t>(ram.host(0x100, 1)));
  CHECK(ram.user_addr(1 << 20) == 0);
}

TEST_CASE("GuestRam regions are shared memfds a backend can map with mmap_offset") {
  GuestRam ram;
  RegionSpec specs[] = {{0, 1 << 20, 0}, {uint64_t{1} << 32, 1 << 20, 2 << 20}};
  REQUIRE(ram.map(specs).ok());
  auto w = ram.wire_region(1);
  CHECK(w.guest_phys_addr == uint64_t{1} << 32);
  CHECK(w.memory_size == 1 << 20);
  CHECK(w.mmap_offset == 2 << 20);

  // Map the fd the way a backend does (whole file, then skip mmap_offset) and check both views.
  size_t len = w.mmap_offset + w.memory_size;
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, ram.regions()[1].fd, 0);
  REQUIRE(p != MAP_FAILED);
  auto* backend_view = static_cast<uint8_t*>(p) + w.mmap_offset;
  std::memcpy(ram.host((uint64_t{1} << 32) + 100, 4), "ping", 4);
  CHECK(std::memcmp(backend_view + 100, "ping", 4) == 0);
  std::memcpy(backend_view + 200, "pong", 4);
  CHECK(std::memcmp(ram.host((uint64_t{1} << 32) + 200, 4), "pong", 4) == 0);
  munmap(p, len);
}

TEST_CASE("GuestRam allocation aligns, zeroes and runs out cleanly") {
  GuestRam ram;
  RegionSpec specs[] = {{0x10000, 8192, 0}, {0x100000, 4096, 0}};
  REQUIRE(ram.map(specs).ok());
  auto a = ram.alloc(10, 1, 0);
  auto b = ram.alloc(16, 64, 0);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a == 0x10000);
  CHECK(*b == 0x10040);
  CHECK(ram.host(*b, 16)[0] == 0);
  CHECK_FALSE(ram.alloc(8192, 1, 0));  // does not fit any more
  auto c = ram.alloc(4096, 4096, 1);
  REQUIRE(c);
  CHECK(*c == 0x100000);
  CHECK_FALSE(ram.alloc(1, 1, 1));
  CHECK_FALSE(ram.alloc(1, 3, 0));  // alignment not a power of two
  CHECK_FALSE(ram.alloc(1, 1, 2));  // no such region
}

TEST_CASE("GuestRam rejects bad region specs") {
  GuestRam ram;
  RegionSpec overlap[] = {{0, 8192, 0}, {4096, 8192, 0}};
  CHECK(ram.map(overlap).code == FrontendError::kInvalidArgument);
  RegionSpec unaligned[] = {{0, 1000, 0}};
  CHECK(ram.map(unaligned).code == FrontendError::kInvalidArgument);
  RegionSpec nine[9];
  for (int i = 0; i < 9; ++i) nine[i] = {uint64_t(i) << 20, 4096, 0};
  CHECK(ram.map(nine).code == FrontendError::kInvalidArgument);
  CHECK(ram.map({}).code == FrontendError::kInvalidArgument);
  RegionSpec ok[] = {{0, 4096, 0}};
  CHECK(ram.map(ok).ok());
  CHECK(ram.map(ok).code == FrontendError::kInvalidArgument);  // already mapped
}
