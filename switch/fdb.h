// SPDX-License-Identifier: MIT
// Fdb: the MAC learning table, (VLAN, MAC) -> port index, shared by all forwarding threads.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "switch/eth.h"
#include "switch/switch_stats.h"

namespace uvs::bridge {

/// A port's slot number in the bridge (0..max_ports-1).
using PortIndex = uint16_t;
inline constexpr PortIndex kNoPort = 0xffff;

/// What learn() did.
enum class LearnResult {
  kRefreshed,  ///< known on this port already (timestamp refreshed when due)
  kLearned,    ///< new entry
  kMoved,      ///< known on another port; now points at this one
  kIgnored,    ///< group or all-zero source address: never learned
  kFull,       ///< no room (capacity reached or probe window full); the frame still forwards
  kBusy,       ///< another thread held the insert lock; the next frame from it will retry
  kLimited,    ///< new to the port, which holds its limit of entries already: not learned
};

/// One entry as fdb dumps show it.
struct FdbRecord {
  uint16_t vlan = 0;
  MacAddr mac{};
  PortIndex port = kNoPort;
  int64_t last_seen_ns = 0;  ///< on the clock the learners passed in (ev::now_ns in the bridge)
};

/// Fixed-capacity open-addressing hash table (linear probing, bounded probe window, tombstones).
///
/// Threading — one table shared by every forwarding thread:
///  * lookup() is lock-free and wait-free-bounded: at most kMaxProbe slots, a handful of acquire
///    loads each (plain MOVs on x86).
///  * learn() of a known MAC is lock-free: a refresh is a relaxed store of the timestamp, a move is
///    one CAS on the entry's meta word.
///  * learn() of a NEW MAC, aging, flushes and dumps take `mu_`. The data path only try_lock()s it
///    and skips learning when busy (kBusy), so a forwarding thread never blocks on a flush.
/// Each entry carries a sequence number in its meta word (seqlock style): writers holding `mu_`
/// make it odd while they change the key, and every change of key or port bumps it, so a reader
/// that saw the same even meta before and after reading the key knows the port belongs to that
/// key — a slot deleted and reused for another MAC between the two reads cannot hand out the wrong
/// port (which could leak a frame into another VLAN). Only slots of live keys are ever CASed by
/// the data path, and only mu_ holders change keys, so mu_ holders never wait on an odd entry.
/// Why not per-thread replicas: every thread would have to see every learn, i.e. N copies and a
/// message per new MAC; a shared table costs one cache miss per lookup and no messages.
///
/// Memory: preallocated at construction (2 * capacity slots, rounded to a power of two, 32 bytes
/// each); nothing allocates afterwards except snapshot().
class Fdb {
 public:
  static constexpr size_t kDefaultCapacity = 65536;
  static constexpr int64_t kDefaultAgingNs = 300'000'000'000;  ///< 802.1Q-2018 8.8.3 default 300 s
  static constexpr size_t kMaxProbe = 32;

  /// Preallocates room for `capacity` entries (at least 1) and a per-port entry count for
  /// ports 0..max_ports-1. Control path.
  explicit Fdb(size_t capacity = kDefaultCapacity, size_t max_ports = kNoPort);
  Fdb(const Fdb&) = delete;
  Fdb& operator=(const Fdb&) = delete;

  /// The port `mac` was last seen on in `vlan`, or kNoPort. Group addresses are never found.
  /// Any thread, lock-free, never blocks.
  PortIndex lookup(uint16_t vlan, const uint8_t* mac) const noexcept;

  /// Records that `mac` (a frame's source) was seen on `port` in `vlan` at `now_ns`. Any thread;
  /// never blocks (see class comment). Group and all-zero addresses return kIgnored.
  /// With `limit` > 0, a MAC not already on `port` (new, or moving in from another port) is
  /// refused with kLimited while `port` holds `limit` entries: nothing is evicted. The count of
  /// a port only grows through learn() calls for that port, so callers that learn for a port
  /// from one thread only (the bridge: the port's own thread) never exceed the limit.
  LearnResult learn(uint16_t vlan, const uint8_t* mac, PortIndex port, int64_t now_ns,
                    uint32_t limit = 0) noexcept;

  /// Entries pointing at `port` now. Any thread.
  uint32_t port_entries(PortIndex port) const noexcept {
    return port < max_ports_ ? port_entries_[port].load(std::memory_order_relaxed) : 0;
  }

  /// Removes entries last seen more than aging_ns() before `now_ns`; returns how many. Does
  /// nothing when aging is disabled (0). Any thread; takes the insert lock (blocks learners'
  /// inserts, not lookups).
  size_t age(int64_t now_ns);

  /// Sets the aging time; 0 disables aging. Any thread.
  void set_aging_ns(int64_t ns) noexcept;
  int64_t aging_ns() const noexcept { return aging_ns_.load(std::memory_order_relaxed); }

  /// Remove every entry / those pointing at `port` / those in `vlan`; return how many. Any thread
  /// (control path); take the insert lock.
  size_t flush_all();
  size_t flush_port(PortIndex port);
  size_t flush_vlan(uint16_t vlan);

  /// Live entries now. Any thread.
  size_t size() const noexcept { return count_.load(std::memory_order_relaxed); }
  size_t capacity() const noexcept { return capacity_; }

  /// Copies out every live entry, ordered by (vlan, mac). Control path (allocates, takes lock).
  std::vector<FdbRecord> snapshot() const;

  /// Counters. Any thread.
  FdbStats stats() const noexcept;

 private:
  struct alignas(32) Entry {
    std::atomic<uint64_t> meta{0};  ///< seq << 32 | port; seq odd while a mu_ holder rewrites key
    std::atomic<uint64_t> key{0};   ///< kEmpty, kTombstone or kLive | vlan << 48 | mac
    std::atomic<int64_t> last_seen{0};
  };
  struct Found {
    Entry* entry = nullptr;
    uint64_t meta = 0;
  };
  enum class Verdict { kKeep, kRemove };

  Found find(uint64_t key) const noexcept;
  LearnResult insert_locked(uint64_t key, PortIndex port, int64_t now_ns) noexcept;
  LearnResult update_found(const Found& f, PortIndex port, int64_t now_ns) noexcept;
  uint64_t lock_entry(Entry& e) noexcept;
  void remove_locked(size_t index, uint64_t locked_meta) noexcept;
  template <typename Pred>
  size_t remove_if(Pred pred, std::atomic<uint64_t>& counter);
  size_t home(uint64_t key) const noexcept;

  void count_port(PortIndex port, int delta) noexcept;

  size_t capacity_;
  size_t max_ports_;
  std::unique_ptr<std::atomic<uint32_t>[]> port_entries_;  ///< [max_ports_]
  size_t mask_;
  size_t probe_;
  std::unique_ptr<Entry[]> table_;
  mutable std::mutex mu_;  ///< serialises key changes (insert, remove, tombstone cleanup)
  std::atomic<size_t> count_{0};
  std::atomic<int64_t> aging_ns_{kDefaultAgingNs};
  std::atomic<int64_t> refresh_ns_{kDefaultAgingNs / 32};

  std::atomic<uint64_t> learned_{0}, moved_{0}, aged_{0}, flushed_{0}, full_{0}, busy_{0};
};

}  // namespace uvs::bridge
