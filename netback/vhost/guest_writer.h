// SPDX-License-Identifier: MIT
// GuestWriter: the one way the backend stores into guest memory (RX headers and payload, the
// split ring's used entries, used->idx, flags and avail_event, packed-ring used descriptors and
// event suppression), marking each store in the dirty log while a migration logs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "netback/vhost/dirty_log.h"
#include "netback/common/virtio_defs.h"

namespace uvs::netback {

/// Stores into guest memory at a host pointer that the bounds-checked translation (GuestMemory)
/// produced for guest-physical address `gpa`, then marks the pages in the dirty log, if one is
/// attached and logging (vhost-user.rst "Migration"). The store comes first; the marks are
/// gathered in the ring's batch and set with release ORs when the burst flushes it
/// (DirtyLogBatch::flush), so a
/// frontend that sees a bit sees the data. A value type, copied into each ring; data path
/// (noexcept, no allocation). Without a log (or with logging off) each call costs one
/// predictable branch beyond the store itself.
class GuestWriter {
 public:
  GuestWriter() = default;
  explicit GuestWriter(DirtyLogBatch* batch) noexcept : batch_(batch) {}

  /// The batch marks are gathered in (nullptr: never marks).
  DirtyLogBatch* batch() const noexcept { return batch_; }
  /// Marks may be needed now: a log is attached and active.
  bool logging() const noexcept { return batch_ != nullptr && batch_->active(); }

  /// Copies `n` bytes of `src` to `host` (the translation of `gpa`).
  void copy(void* host, uint64_t gpa, const void* src, size_t n) const noexcept {
    std::memcpy(host, src, n);
    note(gpa, n);
  }

  /// Stores a 16-bit ring field the driver reads concurrently (used->flags, avail_event).
  void store_u16(uint16_t* host, uint64_t gpa, uint16_t v) const noexcept {
    *reinterpret_cast<volatile uint16_t*>(host) = v;
    note(gpa, sizeof v);
  }

  /// Stores used->idx with release order: the used entries before it become visible first
  /// (virtio §2.7.8.2).
  void store_u16_release(uint16_t* host, uint64_t gpa, uint16_t v) const noexcept {
    __atomic_store_n(host, v, __ATOMIC_RELEASE);
    note(gpa, sizeof v);
  }

  /// Writes the id and length of a used packed-ring descriptor (plain stores: the release store
  /// of its flags, store_u16_release(), publishes them; virtio 1.1 §2.7.1).
  void store_packed_used(virtio::PackedDesc* host, uint64_t gpa, uint16_t id,
                         uint32_t len) const noexcept {
    host->len = len;
    host->id = id;
    note(gpa, sizeof *host);
  }

 private:
  void note(uint64_t gpa, uint64_t n) const noexcept {
    if (logging()) [[unlikely]] batch_->mark(gpa, n);
  }

  DirtyLogBatch* batch_ = nullptr;
};

}  // namespace uvs::netback
