// SPDX-License-Identifier: MIT
// DirtyLog: the migration dirty-page bitmap a vhost-user frontend shares with SET_LOG_BASE, and
// the bounds-checked atomic marking of the guest pages the backend writes.
#pragma once

#include <cstdint>

#include "netback/netback_status.h"

namespace uvs::netback {

/// Dirty pages are logged at this granularity (vhost-user.rst "Migration": VHOST_LOG_PAGE).
inline constexpr uint64_t kLogPageSize = 0x1000;
/// Largest log we map: one bit per 4 KiB page, so 1 GiB of log covers 32 TiB of guest memory.
inline constexpr uint64_t kMaxLogSize = uint64_t{1} << 30;

/// The dirty log of one vhost-user connection (vhost-user.rst "Migration"): bit `p % 8` of byte
/// `p / 8` set means guest-physical page `p` (address / kLogPageSize) was written by the
/// backend. The frontend reads and clears bits concurrently, so every mark is an atomic OR. Loop
/// thread only for map/unmap/set_enabled; mark() is the data path (noexcept, no allocation).
class DirtyLog {
 public:
  DirtyLog() = default;
  ~DirtyLog() { unmap(); }
  DirtyLog(const DirtyLog&) = delete;
  DirtyLog& operator=(const DirtyLog&) = delete;

  /// Maps `size` bytes of `fd` from `offset` (SET_LOG_BASE's log description) as the new log,
  /// replacing the old one. Does not take `fd`. Fails with kMemory, keeping no mapping, when
  /// size is 0 or above kMaxLogSize, offset + size wraps, the fd is a regular file shorter than
  /// offset + size (touching the missing part would raise SIGBUS), or mmap fails. Like guest
  /// memory, a memfd that allows sealing is sealed against shrinking first. Control path.
  Status map(int fd, uint64_t size, uint64_t offset);
  /// Drops the mapping (reset, disconnect). Logging stops. Idempotent.
  void unmap() noexcept;
  /// Follows VHOST_F_LOG_ALL in the acked features: marking happens only while enabled and
  /// mapped (a frontend may ack LOG_ALL before SET_LOG_BASE: QEMU's vhost_dev_start does).
  void set_enabled(bool on) noexcept;

  /// LOG_ALL acked and a log mapped: writes must be marked.
  bool active() const noexcept { return active_; }
  bool mapped() const noexcept { return base_ != nullptr; }
  /// Bytes of log (each covers 8 pages).
  uint64_t size() const noexcept { return size_; }
  /// A mark fell outside the log since it was mapped: the port must break (sticky until the
  /// next map()).
  bool overflowed() const noexcept { return overflowed_; }

  /// Marks every page of [gpa, gpa + len) dirty with release-ordered atomic ORs, so the stores
  /// the caller made before are visible to a frontend that sees the bit. No-op unless active().
  /// A page past the log, or a range that wraps, marks nothing more, sets overflowed() and
  /// returns false.
  bool mark(uint64_t gpa, uint64_t len) noexcept {
    if (!active_ || len == 0) return true;
    return mark_range(gpa, len);
  }

 private:
  bool mark_range(uint64_t gpa, uint64_t len) noexcept;

  uint8_t* base_ = nullptr;  // log byte 0 (guest page 0)
  void* map_base_ = nullptr;
  uint64_t map_len_ = 0;
  uint64_t size_ = 0;
  bool enabled_ = false;
  bool active_ = false;
  bool overflowed_ = false;
};

}  // namespace uvs::netback
