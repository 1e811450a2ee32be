// SPDX-License-Identifier: MIT
// VtepTable: which remote VTEP each inner source MAC was last seen behind, in a fixed-size
// table that never allocates after construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace uvs::netback {

/// MAC → VTEP index learning for a VXLAN port (RFC 7348 section 4.1: "learn the mapping from
/// inner source MAC address to outer source IP address"). Open addressing over a fixed array
/// with a short probe window; when the window is full the oldest entry is replaced, so the
/// table degrades to flooding, never to wrong forwarding. Entries expire after `age_s` seconds
/// unless seen again. Loop thread only; no allocation, no locks.
class VtepTable {
 public:
  static constexpr size_t kSlots = 4096;
  static constexpr size_t kProbe = 8;
  static constexpr uint8_t kNone = 0xff;  ///< lookup(): no (live) entry

  /// `age_s`: seconds an entry lives after it was last learned (Linux vxlan's default is 300).
  explicit VtepTable(uint32_t age_s = 300) noexcept : age_s_(age_s) {}

  /// Records that `mac` (6 bytes) was seen behind VTEP `vtep` (< kNone) at `now_s` seconds.
  void learn(const uint8_t* mac, uint8_t vtep, uint32_t now_s) noexcept;
  /// The VTEP `mac` was last seen behind, or kNone when unknown or expired.
  uint8_t lookup(const uint8_t* mac, uint32_t now_s) const noexcept;
  /// Entries that have not expired at `now_s` (walks the table: control path).
  size_t live(uint32_t now_s) const noexcept;
  /// Forgets every entry behind `vtep`.
  void forget_vtep(uint8_t vtep) noexcept;

 private:
  struct Entry {
    uint64_t key = 0;  // MAC in the low 48 bits, bit 48 set when in use
    uint32_t seen_s = 0;
    uint8_t vtep = kNone;
  };
  static uint64_t key_of(const uint8_t* mac) noexcept;
  static size_t slot_of(uint64_t key) noexcept;
  bool expired(const Entry& e, uint32_t now_s) const noexcept {
    return now_s - e.seen_s > age_s_;
  }

  uint32_t age_s_;
  std::array<Entry, kSlots> slots_{};
};

}  // namespace uvs::netback
