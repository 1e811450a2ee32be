// SPDX-License-Identifier: MIT
// GuestRam: memfd creation, mapping, translation and the bump allocator.
#include "netback/frontend/guest_ram.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace uvs::frontend {
namespace {

constexpr uint64_t kPage = 4096;

bool page_multiple(uint64_t v) { return (v & (kPage - 1)) == 0; }

}  // namespace

GuestRam::~GuestRam() { unmap(); }

void GuestRam::unmap() noexcept {
  for (RamRegion& r : regions_) {
    if (r.map_base != nullptr) munmap(r.map_base, r.map_len);
    if (r.fd >= 0) close(r.fd);
  }
  regions_.clear();
}

Status GuestRam::map(std::span<const RegionSpec> specs) {
  if (!regions_.empty()) return Status::fail(FrontendError::kInvalidArgument, "guest RAM already mapped");
  if (specs.empty() || specs.size() > netback::vu::kMaxMemTableRegions) {
    return Status::fail(FrontendError::kInvalidArgument, "need 1..8 guest memory regions");
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    const RegionSpec& s = specs[i];
    if (s.size == 0 || !page_multiple(s.size) || !page_multiple(s.file_offset) ||
        !page_multiple(s.gpa) || s.gpa + s.size < s.gpa) {
      return Status::fail(FrontendError::kInvalidArgument,
                          "region " + std::to_string(i) + ": size/offset/gpa not page multiples");
    }
    for (size_t j = 0; j < i; ++j) {
      const RegionSpec& o = specs[j];
      if (s.gpa < o.gpa + o.size && o.gpa < s.gpa + s.size) {
        return Status::fail(FrontendError::kInvalidArgument,
                            "region " + std::to_string(i) + " overlaps region " + std::to_string(j));
      }
    }
  }
  regions_.reserve(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const RegionSpec& s = specs[i];
    RamRegion r;
    r.gpa = s.gpa;
    r.size = s.size;
    r.mmap_offset = s.file_offset;
    std::string name = "uvs-guest-ram" + std::to_string(i);
    r.fd = memfd_create(name.c_str(), MFD_CLOEXEC);
    if (r.fd < 0) {
      int e = errno;
      unmap();
      return Status::fail(FrontendError::kMemory, "memfd_create", e);
    }
    r.map_len = s.file_offset + s.size;
    if (ftruncate(r.fd, static_cast<off_t>(r.map_len)) != 0) {
      int e = errno;
      close(r.fd);
      unmap();
      return Status::fail(FrontendError::kMemory, "ftruncate guest memory", e);
    }
    // MAP_SHARED: the backend maps the same pages; both sides must see each other's writes.
    void* p = mmap(nullptr, r.map_len, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      close(r.fd);
      unmap();
      return Status::fail(FrontendError::kMemory, "mmap guest memory", e);
    }
    r.map_base = p;
    r.host = static_cast<uint8_t*>(p) + s.file_offset;
    regions_.push_back(r);
  }
  return Status::success();
}

uint8_t* GuestRam::host(uint64_t gpa, uint64_t len) const noexcept {
  for (const RamRegion& r : regions_) {
    if (gpa >= r.gpa && gpa - r.gpa < r.size && len <= r.size - (gpa - r.gpa)) {
      return r.host + (gpa - r.gpa);
    }
  }
  return nullptr;
}

uint64_t GuestRam::user_addr(uint64_t gpa) const noexcept {
  return reinterpret_cast<uint64_t>(host(gpa, 1));
}

std::optional<uint64_t> GuestRam::alloc(uint64_t size, uint64_t align, size_t region) {
  if (region >= regions_.size() || align == 0 || (align & (align - 1)) != 0) return std::nullopt;
  RamRegion& r = regions_[region];
  uint64_t start = (r.next_free + align - 1) & ~(align - 1);
  if (start > r.size || size > r.size - start) return std::nullopt;
  r.next_free = start + size;
  std::memset(r.host + start, 0, size);
  return r.gpa + start;
}

netback::vu::MemoryRegion GuestRam::wire_region(size_t i) const noexcept {
  const RamRegion& r = regions_[i];
  return netback::vu::MemoryRegion{r.gpa, r.size, reinterpret_cast<uint64_t>(r.host), r.mmap_offset};
}

uint64_t GuestRam::unmapped_gpa() const noexcept {
  uint64_t end = 0;
  for (const RamRegion& r : regions_) end = std::max(end, r.gpa + r.size);
  return end + (uint64_t{1} << 30);
}

}  // namespace uvs::frontend
