// SPDX-License-Identifier: MIT
// VtepTable: bounded-probe open addressing with oldest-entry replacement.
#include "netback/host/vtep_table.h"

namespace uvs::netback {

namespace {
constexpr uint64_t kUsed = uint64_t{1} << 48;
}  // namespace

uint64_t VtepTable::key_of(const uint8_t* mac) noexcept {
  uint64_t k = 0;
  for (int i = 0; i < 6; ++i) k = k << 8 | mac[i];
  return k | kUsed;
}

size_t VtepTable::slot_of(uint64_t key) noexcept {
  uint64_t x = key * 0x9e3779b97f4a7c15ull;
  return static_cast<size_t>(x >> 52) & (kSlots - 1);
}

void VtepTable::learn(const uint8_t* mac, uint8_t vtep, uint32_t now_s) noexcept {
  const uint64_t key = key_of(mac);
  const size_t base = slot_of(key);
  Entry* free_slot = nullptr;
  Entry* oldest = nullptr;
  for (size_t i = 0; i < kProbe; ++i) {
    Entry& e = slots_[(base + i) & (kSlots - 1)];
    if (e.key == key) {
      e.vtep = vtep;
      e.seen_s = now_s;
      return;
    }
    if (e.key == 0 || expired(e, now_s)) {
      if (free_slot == nullptr) free_slot = &e;
    } else if (oldest == nullptr || now_s - e.seen_s > now_s - oldest->seen_s) {
      oldest = &e;
    }
  }
  // A key only ever sits in its own probe window, and the whole window was searched: take a
  // free or expired slot, else the oldest entry.
  Entry* v = free_slot != nullptr ? free_slot : oldest;
  v->key = key;
  v->vtep = vtep;
  v->seen_s = now_s;
}

uint8_t VtepTable::lookup(const uint8_t* mac, uint32_t now_s) const noexcept {
  const uint64_t key = key_of(mac);
  const size_t base = slot_of(key);
  for (size_t i = 0; i < kProbe; ++i) {
    const Entry& e = slots_[(base + i) & (kSlots - 1)];
    if (e.key == key) return expired(e, now_s) ? kNone : e.vtep;
  }
  return kNone;
}

size_t VtepTable::live(uint32_t now_s) const noexcept {
  size_t n = 0;
  for (const Entry& e : slots_) n += e.key != 0 && !expired(e, now_s);
  return n;
}

void VtepTable::forget_vtep(uint8_t vtep) noexcept {
  for (Entry& e : slots_) {
    if (e.key != 0 && e.vtep == vtep) e = Entry{};
  }
}

}  // namespace uvs::netback
