// SPDX-License-Identifier: MIT
// GuestMemory: the guest RAM regions a vhost-user frontend shared, and the one bounds-checked
// translation of guest addresses into our mappings.
#pragma once

#include <sys/uio.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "netback/common/netback_status.h"
#include "netback/vhost/vhost_user_proto.h"

namespace uvs::netback {

/// Memory slots we advertise with GET_MAX_MEM_SLOTS (vhost-user.rst: CONFIGURE_MEM_SLOTS).
inline constexpr uint32_t kMaxMemSlots = 32;

/// The mapped guest memory of one vhost-user connection.
///
/// Every guest address the backend touches goes through gpa_to_host() (descriptor buffers) or
/// uva_to_host() (ring setup). Both are bounds-checked and overflow-safe: they never return a
/// pointer whose range is not entirely inside one mapped region. A buffer that spans two regions
/// translates as two segments. Not copyable (owns mappings).
///
/// Threads: the table changes (add/remove/clear) on the device's thread while no other thread
/// translates (the port stops its lanes first, and each lane's stop is ordered before the
/// change by the posted-call hand-over). Translations run concurrently on every lane's thread,
/// so the only state they write, the last-hit hint, is an atomic.
class GuestMemory {
 public:
  GuestMemory() = default;
  ~GuestMemory() { clear(); }
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  /// Maps `fd` (MAP_SHARED, read/write) for `region` and adds it. Does not take `fd`; the caller
  /// closes it (the mapping stays valid). Fails with kMemory, mapping nothing, when the region
  /// is empty, its ranges wrap around 2^64, it overlaps a mapped region (in guest-physical or
  /// frontend-virtual space), all kMaxMemSlots are used, the fd is a regular file shorter than
  /// mmap_offset + memory_size (touching the missing pages would raise SIGBUS), or mmap fails.
  /// A memfd that allows sealing is sealed against shrinking (F_SEAL_SHRINK) before it is mapped.
  /// A region equal to a mapped one (address, size, user address and offset: a multi-queue
  /// QEMU before 8.0 adds each region once per queue pair) only takes one more reference.
  Status add_region(const vu::MemoryRegion& region, int fd);

  /// Adds a region backed by memory the caller owns (tests and fuzzers: no mmap, never
  /// unmapped by us). `host` must stay valid for `region.memory_size` bytes until the region is
  /// removed or clear() runs. Same validation as add_region().
  Status add_unowned_region(const vu::MemoryRegion& region, void* host);

  /// Drops a reference to the region with the same guest address, size and user address
  /// (REM_MEM_REG ignores mmap_offset), and removes (unmaps) it with the last. Returns false if
  /// there is none.
  bool remove_region(const vu::MemoryRegion& region) noexcept;

  /// Unmaps everything.
  void clear() noexcept;

  /// Translates guest-physical `gpa`. Returns a pointer to it and stores in `*len` how many bytes
  /// from there are contiguous in our mapping, at most the `*len` given. Returns nullptr (and
  /// leaves *len alone) when `gpa` is in no region or `*len` is 0. Data path: no allocation.
  void* gpa_to_host(uint64_t gpa, uint64_t* len) const noexcept;

  /// Translates [gpa, gpa+len) into up to `max` segments (one per region crossed), and with
  /// `gpas` stores each segment's guest-physical address there too. Returns the number of
  /// segments, or -1 if any byte is unmapped, `len` is 0, gpa+len wraps, or more than `max`
  /// segments would be needed (then `*needed_more` is set if non-null).
  int gpa_to_iov(uint64_t gpa, uint64_t len, iovec* iov, int max, bool* needed_more = nullptr,
                 uint64_t* gpas = nullptr) const noexcept;

  /// Translates a frontend virtual address range that must be contiguous in one region (rings,
  /// SET_VRING_ADDR). Returns nullptr if [uva, uva+len) is not entirely inside one region.
  void* uva_to_host(uint64_t uva, uint64_t len) const noexcept;

  /// The guest-physical address of a frontend virtual range inside one region (a packed ring's
  /// descriptor ring, which the dirty log keys by guest-physical address), or kNoGpa.
  uint64_t uva_to_gpa(uint64_t uva, uint64_t len) const noexcept;
  static constexpr uint64_t kNoGpa = ~uint64_t{0};

  /// Number of regions mapped.
  size_t region_count() const noexcept { return count_; }
  /// Copy of region `i`'s description (i < region_count()).
  const vu::MemoryRegion& region(size_t i) const noexcept { return regions_[i].desc; }

 private:
  struct Region {
    vu::MemoryRegion desc{};
    uint8_t* host = nullptr;   // host address of desc.guest_phys_addr
    void* map_base = nullptr;  // what to munmap (nullptr: not ours)
    size_t map_len = 0;
    uint32_t refs = 1;         // times added (see add_region)
  };
  Status validate_new(const vu::MemoryRegion& region) const;
  void append(const vu::MemoryRegion& region, uint8_t* host, void* map_base, size_t map_len);
  const Region* find_gpa(uint64_t gpa) const noexcept;
  Region* find_same(const vu::MemoryRegion& region) noexcept;

  std::array<Region, kMaxMemSlots> regions_{};
  size_t count_ = 0;
  // Most recently used region: descriptors cluster. Relaxed: any index below count_ is a valid
  // hint (find_gpa checks the region), so lanes on other threads need no ordering with it; its
  // own cache line keeps the lanes' stores off the regions they all read.
  alignas(64) mutable std::atomic<uint32_t> last_hit_{0};
};

}  // namespace uvs::netback
