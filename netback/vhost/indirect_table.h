// SPDX-License-Identifier: MIT
// map_indirect_table(): the checks and the translation of an indirect descriptor table that the
// split (Virtq) and packed (PackedVirtq) walks share; each layout then reads the entries its way.
#pragma once

#include <cstdint>

#include "netback/vhost/guest_memory.h"
#include "netback/vhost/virtq_chain.h"

namespace uvs::netback {

/// Maps the indirect table of `len` bytes at guest-physical `addr` (an INDIRECT descriptor's
/// buffer) as entries of type `Desc`: virtio::VringDesc on a split ring, virtio::PackedDesc on a
/// packed one (both 16 bytes). kIndirectBadSize when `len` is 0, not a whole number of entries, or
/// more than `max_entries` of them; kIndirectUnmapped when the table is not contiguous in our
/// mapping or not aligned for the 64-bit reads the walks use (drivers allocate it with
/// kmalloc/malloc, so it always is in practice). On kOk, `*table` and `*count` describe it.
/// Inline: called once per indirect chain on the data path, no allocation.
template <class Desc>
inline VirtqError map_indirect_table(const GuestMemory* mem, uint64_t addr, uint32_t len,
                                     uint32_t max_entries, const Desc** table,
                                     uint32_t* count) noexcept {
  static_assert(sizeof(Desc) == 16, "virtio descriptors are 16 bytes in either layout");
  if (len == 0 || len % sizeof(Desc) != 0 || len / sizeof(Desc) > max_entries) {
    return VirtqError::kIndirectBadSize;
  }
  uint64_t want = len;
  void* t = mem->gpa_to_host(addr, &want);
  if (!t || want != len || reinterpret_cast<uintptr_t>(t) % 8 != 0) {
    return VirtqError::kIndirectUnmapped;
  }
  *table = static_cast<const Desc*>(t);
  *count = len / static_cast<uint32_t>(sizeof(Desc));
  return VirtqError::kOk;
}

}  // namespace uvs::netback
