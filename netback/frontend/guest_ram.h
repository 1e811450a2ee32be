// SPDX-License-Identifier: MIT
// GuestRam: the fake guest's memory — memfd-backed regions at guest-physical addresses we choose.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "netback/frontend/frontend_error.h"
#include "netback/vhost/vhost_user_proto.h"

namespace uvs::frontend {

/// One region to create: `size` bytes at guest-physical `gpa`. The memfd is made
/// `file_offset + size` long and the region is the part after `file_offset`, so the backend sees
/// a non-zero mmap_offset, as QEMU sends for RAM above the PCI hole.
struct RegionSpec {
  uint64_t gpa = 0;
  uint64_t size = 0;
  uint64_t file_offset = 0;  ///< page multiple
};

/// One mapped region.
struct RamRegion {
  uint64_t gpa = 0;
  uint64_t size = 0;
  uint64_t mmap_offset = 0;  ///< where the region starts inside `fd`
  int fd = -1;               ///< the memfd; owned by GuestRam
  uint8_t* host = nullptr;   ///< our mapping of the region's first byte
  void* map_base = nullptr;  ///< what mmap returned (covers the whole file)
  size_t map_len = 0;
  uint64_t next_free = 0;    ///< bump allocator cursor, offset inside the region
};

/// Guest memory as a hypervisor would own it: shared memfd mappings that the backend maps too.
/// Our own virtual address of a byte doubles as the "userspace address" of vhost-user
/// (QEMU's process address), so SET_VRING_ADDR carries real pointers of this process.
/// Not thread-safe; one owner thread (translation is read-only and may be shared).
class GuestRam {
 public:
  GuestRam() = default;
  ~GuestRam();
  GuestRam(const GuestRam&) = delete;
  GuestRam& operator=(const GuestRam&) = delete;

  /// Creates and maps the regions (at most vu::kMaxMemTableRegions, non-overlapping, sizes and
  /// offsets page multiples). Returns kInvalidArgument for a bad spec, kMemory (with errno) when
  /// the kernel refuses. Control path; call once.
  Status map(std::span<const RegionSpec> specs);

  /// Unmaps and closes everything. Idempotent.
  void unmap() noexcept;

  /// The mapped regions, in the order given to map().
  std::span<const RamRegion> regions() const noexcept { return regions_; }

  /// Host pointer for [gpa, gpa+len) when the whole range lies inside one region, else nullptr.
  /// Any thread; never fails loudly.
  uint8_t* host(uint64_t gpa, uint64_t len) const noexcept;

  /// The vhost-user "userspace address" of `gpa` (our virtual address), or 0 if unmapped.
  uint64_t user_addr(uint64_t gpa) const noexcept;

  /// Allocates `size` bytes aligned to `align` (a power of two) in region `region` and zeroes
  /// them. Returns the guest-physical address, or nullopt when the region is full. Control path.
  std::optional<uint64_t> alloc(uint64_t size, uint64_t align, size_t region = 0);

  /// The wire description of region `i` for SET_MEM_TABLE / ADD_MEM_REG.
  netback::vu::MemoryRegion wire_region(size_t i) const noexcept;

  /// A guest-physical address that belongs to no region (for fault injection): 1 GiB past the
  /// highest region end.
  uint64_t unmapped_gpa() const noexcept;

 private:
  std::vector<RamRegion> regions_;
};

}  // namespace uvs::frontend
