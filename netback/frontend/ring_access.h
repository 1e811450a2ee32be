// SPDX-License-Identifier: MIT
// The driver side's 16-bit ring-field accesses (indices, flags, event fields), shared by the
// split and packed rings: atomic so the device on another thread sees each store whole, with
// acquire/release where virtio 1.1 section 2.7.13 (split) and 2.8.21 (packed) order them.
#pragma once

#include <atomic>
#include <cstdint>

namespace uvs::frontend {

inline uint16_t load_acquire(uint16_t* p) noexcept {
  return std::atomic_ref<uint16_t>(*p).load(std::memory_order_acquire);
}
inline uint16_t load_relaxed(uint16_t* p) noexcept {
  return std::atomic_ref<uint16_t>(*p).load(std::memory_order_relaxed);
}
inline void store_release(uint16_t* p, uint16_t v) noexcept {
  std::atomic_ref<uint16_t>(*p).store(v, std::memory_order_release);
}
inline void store_relaxed(uint16_t* p, uint16_t v) noexcept {
  std::atomic_ref<uint16_t>(*p).store(v, std::memory_order_relaxed);
}

}  // namespace uvs::frontend
