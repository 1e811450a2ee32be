// SPDX-License-Identifier: MIT
// Fdb: lock-free lookup/refresh/move, locked insert and removal, aging, flushes and dumps.
#include "switch/fdb.h"

#include <algorithm>
#include <cassert>

namespace uvs::bridge {

namespace {

constexpr uint64_t kEmpty = 0;
constexpr uint64_t kTombstone = 1;
constexpr uint64_t kLive = uint64_t{1} << 63;
constexpr uint64_t kSeqOne = uint64_t{1} << 32;

uint64_t make_key(uint16_t vlan, const uint8_t* mac) {
  return kLive | (uint64_t(vlan & 0xfff) << 48) | mac_to_u64(mac);
}
uint16_t key_vlan(uint64_t key) { return uint16_t((key >> 48) & 0xfff); }
uint64_t key_mac(uint64_t key) { return key & 0xffff'ffff'ffffULL; }

uint32_t meta_seq(uint64_t meta) { return uint32_t(meta >> 32); }
PortIndex meta_port(uint64_t meta) { return PortIndex(meta & 0xffff); }
bool meta_busy(uint64_t meta) { return (meta_seq(meta) & 1) != 0; }
/// The meta word that ends a write which started from the even word `old`.
uint64_t meta_after(uint64_t old, PortIndex port) {
  return (uint64_t(meta_seq(old) + 2) << 32) | port;
}

}  // namespace

Fdb::Fdb(size_t capacity, size_t max_ports)
    : capacity_(capacity ? capacity : 1),
      max_ports_(max_ports),
      port_entries_(std::make_unique<std::atomic<uint32_t>[]>(max_ports)) {
  // Half-full at most: linear-probe chains stay short and the bounded window rarely overflows.
  size_t slots = 2;
  while (slots < 2 * capacity_) slots <<= 1;
  mask_ = slots - 1;
  probe_ = std::min(kMaxProbe, slots);
  table_ = std::make_unique<Entry[]>(slots);
}

void Fdb::count_port(PortIndex port, int delta) noexcept {
  if (port >= max_ports_) return;
  if (delta > 0) {
    port_entries_[port].fetch_add(1, std::memory_order_relaxed);
  } else {
    port_entries_[port].fetch_sub(1, std::memory_order_relaxed);
  }
}

size_t Fdb::home(uint64_t key) const noexcept {
  // murmur3's 64-bit finaliser: locally administered MACs differ in few bits, so mix them all.
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  key *= 0xc4ceb9fe1a85ec53ULL;
  key ^= key >> 33;
  return size_t(key) & mask_;
}

Fdb::Found Fdb::find(uint64_t key) const noexcept {
  size_t i = home(key);
  for (size_t n = 0; n < probe_; ++n, i = (i + 1) & mask_) {
    Entry& e = table_[i];
    for (int attempt = 0;; ++attempt) {
      // Seqlock read: meta, key, meta again. The key load is acquire, so the second meta load
      // cannot be satisfied before it; if it saw a key written by a later writer, that writer's
      // odd meta happened-before and the second load cannot return the old even value.
      const uint64_t m1 = e.meta.load(std::memory_order_acquire);
      const uint64_t k = e.key.load(std::memory_order_acquire);
      if (k == kEmpty) return {};  // end of the chain
      if (k != key) break;         // tombstone or another key: next slot
      const uint64_t m2 = e.meta.load(std::memory_order_acquire);
      if (m1 == m2 && !meta_busy(m1)) return {&e, m1};
      // Rewritten under us; a key that keeps churning is treated as unknown (the frame floods).
      if (attempt == 3) return {};
    }
  }
  return {};
}

PortIndex Fdb::lookup(uint16_t vlan, const uint8_t* mac) const noexcept {
  if (is_group_mac(mac)) return kNoPort;
  Found f = find(make_key(vlan, mac));
  return f.entry ? meta_port(f.meta) : kNoPort;
}

LearnResult Fdb::update_found(const Found& f, PortIndex port, int64_t now_ns) noexcept {
  Entry& e = *f.entry;
  if (meta_port(f.meta) == port) {
    // Refresh only when it matters for aging, so a busy MAC does not bounce the entry's cache
    // line between threads with a store per frame.
    const int64_t last = e.last_seen.load(std::memory_order_relaxed);
    if (now_ns - last >= refresh_ns_.load(std::memory_order_relaxed)) {
      e.last_seen.store(now_ns, std::memory_order_relaxed);
    }
    return LearnResult::kRefreshed;
  }
  // A move: one CAS from exactly the (seq, port) we validated against the key, so it cannot land
  // on a slot that was meanwhile removed or reused (that bumps seq).
  uint64_t expected = f.meta;
  if (e.meta.compare_exchange_strong(expected, meta_after(f.meta, port), std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
    e.last_seen.store(now_ns, std::memory_order_relaxed);
    count_port(meta_port(f.meta), -1);
    count_port(port, +1);
    moved_.fetch_add(1, std::memory_order_relaxed);
    return LearnResult::kMoved;
  }
  // Lost to another mover or a remover; the next frame from this MAC settles it.
  busy_.fetch_add(1, std::memory_order_relaxed);
  return LearnResult::kBusy;
}

LearnResult Fdb::learn(uint16_t vlan, const uint8_t* mac, PortIndex port, int64_t now_ns,
                       uint32_t limit) noexcept {
  if (is_group_mac(mac) || is_zero_mac(mac)) return LearnResult::kIgnored;
  const uint64_t key = make_key(vlan, mac);
  Found f = find(key);
  if (f.entry && meta_port(f.meta) == port) return update_found(f, port, now_ns);
  // New to this port (or moving in): refused, never evicting, once the port holds its limit.
  if (limit != 0 && port_entries(port) >= limit) return LearnResult::kLimited;
  if (f.entry) return update_found(f, port, now_ns);
  // New MACs are rare (a VM boots, a MAC ages out); try_lock keeps the forwarding thread from
  // ever sleeping behind a flush or a dump on the control thread.
  std::unique_lock<std::mutex> lk(mu_, std::try_to_lock);
  if (!lk.owns_lock()) {
    busy_.fetch_add(1, std::memory_order_relaxed);
    return LearnResult::kBusy;
  }
  return insert_locked(key, port, now_ns);
}

uint64_t Fdb::lock_entry(Entry& e) noexcept {
  uint64_t m = e.meta.load(std::memory_order_acquire);
  for (;;) {
    // Only mu_ holders make meta odd and we hold mu_, so m is even; the CAS can only lose to a
    // data-path move, after which we retry from the new value.
    assert(!meta_busy(m));
    if (e.meta.compare_exchange_weak(m, m + kSeqOne, std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
      return m;
    }
  }
}

LearnResult Fdb::insert_locked(uint64_t key, PortIndex port, int64_t now_ns) noexcept {
  size_t i = home(key);
  Entry* slot = nullptr;
  for (size_t n = 0; n < probe_; ++n, i = (i + 1) & mask_) {
    Entry& e = table_[i];
    const uint64_t k = e.key.load(std::memory_order_relaxed);  // keys change only under mu_
    if (k == key) {
      // Another thread inserted it between our lock-free miss and taking the lock.
      return update_found(Found{&e, e.meta.load(std::memory_order_acquire)}, port, now_ns);
    }
    if (k == kTombstone && !slot) slot = &e;
    if (k == kEmpty) {
      if (!slot) slot = &e;
      break;
    }
  }
  if (!slot || count_.load(std::memory_order_relaxed) >= capacity_) {
    full_.fetch_add(1, std::memory_order_relaxed);
    return LearnResult::kFull;
  }
  const uint64_t m = lock_entry(*slot);
  slot->last_seen.store(now_ns, std::memory_order_relaxed);
  slot->key.store(key, std::memory_order_release);
  slot->meta.store(meta_after(m, port), std::memory_order_release);
  count_.fetch_add(1, std::memory_order_relaxed);
  count_port(port, +1);
  learned_.fetch_add(1, std::memory_order_relaxed);
  return LearnResult::kLearned;
}

void Fdb::remove_locked(size_t index, uint64_t locked_meta) noexcept {
  Entry& e = table_[index];
  e.key.store(kTombstone, std::memory_order_release);
  e.meta.store(meta_after(locked_meta, kNoPort), std::memory_order_release);
  count_.fetch_sub(1, std::memory_order_relaxed);
  count_port(meta_port(locked_meta), -1);
  // A run of tombstones followed by an empty slot ends every chain through it anyway, so it can
  // become empty: lookups stop earlier with the same answer, and tombstones do not pile up.
  if (table_[(index + 1) & mask_].key.load(std::memory_order_relaxed) != kEmpty) return;
  for (size_t j = index; table_[j].key.load(std::memory_order_relaxed) == kTombstone;
       j = (j - 1) & mask_) {
    table_[j].key.store(kEmpty, std::memory_order_release);
  }
}

template <typename Pred>
size_t Fdb::remove_if(Pred pred, std::atomic<uint64_t>& counter) {
  std::lock_guard<std::mutex> lk(mu_);
  size_t removed = 0;
  for (size_t i = 0; i <= mask_; ++i) {
    Entry& e = table_[i];
    const uint64_t k = e.key.load(std::memory_order_relaxed);
    if (!(k & kLive)) continue;
    if (!pred(k, e.meta.load(std::memory_order_acquire), e)) continue;
    // Decide again on the locked word: the port may have moved since the first look.
    const uint64_t m = lock_entry(e);
    if (pred(k, m, e)) {
      remove_locked(i, m);
      ++removed;
    } else {
      e.meta.store(meta_after(m, meta_port(m)), std::memory_order_release);
    }
  }
  counter.fetch_add(removed, std::memory_order_relaxed);
  return removed;
}

size_t Fdb::age(int64_t now_ns) {
  const int64_t aging = aging_ns();
  if (aging <= 0) return 0;
  return remove_if(
      [&](uint64_t, uint64_t, const Entry& e) {
        return now_ns - e.last_seen.load(std::memory_order_relaxed) > aging;
      },
      aged_);
}

void Fdb::set_aging_ns(int64_t ns) noexcept {
  aging_ns_.store(ns < 0 ? 0 : ns, std::memory_order_relaxed);
  // Refresh often enough that an active MAC is never more than 1/32 of the aging time stale.
  refresh_ns_.store(ns > 0 ? ns / 32 : 1'000'000'000, std::memory_order_relaxed);
}

size_t Fdb::flush_all() {
  return remove_if([](uint64_t, uint64_t, const Entry&) { return true; }, flushed_);
}

size_t Fdb::flush_port(PortIndex port) {
  return remove_if([&](uint64_t, uint64_t m, const Entry&) { return meta_port(m) == port; },
                   flushed_);
}

size_t Fdb::flush_vlan(uint16_t vlan) {
  return remove_if([&](uint64_t k, uint64_t, const Entry&) { return key_vlan(k) == vlan; },
                   flushed_);
}

std::vector<FdbRecord> Fdb::snapshot() const {
  std::vector<FdbRecord> out;
  {
    std::lock_guard<std::mutex> lk(mu_);
    out.reserve(size());
    for (size_t i = 0; i <= mask_; ++i) {
      const Entry& e = table_[i];
      const uint64_t k = e.key.load(std::memory_order_relaxed);
      if (!(k & kLive)) continue;
      FdbRecord r;
      r.vlan = key_vlan(k);
      r.mac = u64_to_mac(key_mac(k));
      r.port = meta_port(e.meta.load(std::memory_order_acquire));
      r.last_seen_ns = e.last_seen.load(std::memory_order_relaxed);
      out.push_back(r);
    }
  }
  std::sort(out.begin(), out.end(), [](const FdbRecord& a, const FdbRecord& b) {
    return a.vlan != b.vlan ? a.vlan < b.vlan : a.mac < b.mac;
  });
  return out;
}

FdbStats Fdb::stats() const noexcept {
  FdbStats s;
  s.entries = size();
  s.capacity = capacity_;
  s.learned = learned_.load(std::memory_order_relaxed);
  s.moved = moved_.load(std::memory_order_relaxed);
  s.aged = aged_.load(std::memory_order_relaxed);
  s.flushed = flushed_.load(std::memory_order_relaxed);
  s.full = full_.load(std::memory_order_relaxed);
  s.busy = busy_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace uvs::bridge
