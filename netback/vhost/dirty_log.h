// SPDX-License-Identifier: MIT
// DirtyLog: the migration dirty-page bitmap a vhost-user frontend shares with SET_LOG_BASE, and
// the bounds-checked atomic marking of the guest pages the backend writes.
#pragma once

#include <cstdint>

#include "netback/common/netback_status.h"

namespace uvs::netback {

/// Dirty pages are logged at this granularity (vhost-user.rst "Migration": VHOST_LOG_PAGE).
inline constexpr uint64_t kLogPageSize = 0x1000;
/// Largest log we map: one bit per 4 KiB page, so 1 GiB of log covers 32 TiB of guest memory.
inline constexpr uint64_t kMaxLogSize = uint64_t{1} << 30;

/// The dirty log of one vhost-user connection (vhost-user.rst "Migration"): bit `p % 8` of byte
/// `p / 8` set means guest-physical page `p` (address / kLogPageSize) was written by the
/// backend. The frontend reads and clears bits concurrently, so every bit is set with an atomic
/// OR.
///
/// Threads: the mapping changes (map, unmap, set_enabled) on the device's thread while no ring
/// is being served elsewhere (the port stops its lanes first); the rings' batches
/// (DirtyLogBatch), one per ring and so one thread each, set bits concurrently with set_page(),
/// which only reads the mapping.
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

  /// Sets page `p`'s bit with a release-ordered atomic OR, so the stores made before are visible
  /// to a frontend that sees the bit (and clears it, then copies the page). A page outside the
  /// log, or no log mapped, sets nothing. Data path; any thread.
  void set_page(uint64_t p) noexcept;

 private:
  uint8_t* base_ = nullptr;  // log byte 0 (guest page 0)
  void* map_base_ = nullptr;
  uint64_t map_len_ = 0;
  uint64_t size_ = 0;
  bool enabled_ = false;
  bool active_ = false;
};

/// The marks of one ring's stores, gathered per burst (one page written by a frame's header,
/// its payload and the next frame is logged once) and written to the shared DirtyLog by
/// flush(), as DPDK's vhost log cache does: the data path flushes at the end of every burst,
/// before anything else can run on the loop. One per ring, so a ring's lane owns its batch and
/// lanes on other threads never share one. Data path (noexcept, no allocation).
class DirtyLogBatch {
 public:
  DirtyLogBatch() = default;
  DirtyLogBatch(const DirtyLogBatch&) = delete;
  DirtyLogBatch& operator=(const DirtyLogBatch&) = delete;

  /// Gathers for `log` from now on (nullptr: none), after flushing what was gathered for the
  /// previous one. Clears overflowed().
  void attach(DirtyLog* log) noexcept {
    flush();
    log_ = log;
    overflowed_ = false;
  }
  DirtyLog* log() const noexcept { return log_; }
  /// A log is attached and active: stores must be marked.
  bool active() const noexcept { return log_ != nullptr && log_->active(); }
  /// A mark fell outside the log since attach(): the port must break.
  bool overflowed() const noexcept { return overflowed_; }

  /// Gathers every page of [gpa, gpa + len) to be marked dirty by the next flush(); call it
  /// after the stores it covers. No-op unless active(). A page past the log, or a range that
  /// wraps, gathers nothing more, sets overflowed() and returns false.
  bool mark(uint64_t gpa, uint64_t len) noexcept {
    if (!active() || len == 0) return true;
    return gather(gpa, len);
  }
  /// Sets the gathered pages' bits in the log. Call at the end of every burst, and after any
  /// single store outside one.
  void flush() noexcept {
    if (npending_ != 0) flush_pending();
  }

 private:
  /// Pages gathered before a flush is forced; a burst of 64-byte frames into 2 KiB buffers
  /// touches about 20.
  static constexpr uint32_t kMaxPending = 64;
  /// How many recent pages a new one is compared with: a frame's header, payload and used entry
  /// alternate between its buffer's page and the used ring's.
  static constexpr uint32_t kRecent = 4;

  bool gather(uint64_t gpa, uint64_t len) noexcept;
  void flush_pending() noexcept;

  DirtyLog* log_ = nullptr;
  bool overflowed_ = false;
  uint32_t npending_ = 0;
  uint64_t pending_[kMaxPending];
};

}  // namespace uvs::netback
