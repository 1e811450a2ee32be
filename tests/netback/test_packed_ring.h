// SPDX-License-Identifier: MIT
// TestPackedRing: a driver-side packed virtqueue (virtio 1.1 §2.7) inside a TestGuest, for the
// netback packed-ring tests.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <vector>

#include "netback/vhost/packed_virtq.h"
#include "netback/common/virtio_defs.h"
#include "tests/netback/test_guest.h"

namespace uvs::netback::test {

/// The driver side of a packed ring: descriptor ring, driver and device event structures, then a
/// bump area for buffers. Keeps the driver's wrap counters and the descriptor count of each
/// buffer id in flight, as §2.7 requires of a driver.
struct TestPackedRing {
  TestGuest& g;
  uint32_t size;
  uint64_t desc_gpa, driver_event_gpa, device_event_gpa, next_buf;
  uint16_t next_avail = 0;
  bool avail_wrap = true;
  uint16_t next_used = 0;
  bool used_wrap = true;
  std::map<uint16_t, uint16_t> in_flight;  // buffer id -> descriptors

  TestPackedRing(TestGuest& guest, uint32_t qsize, uint64_t base_off = 0) : g(guest), size(qsize) {
    desc_gpa = TestGuest::kGpa + base_off;
    driver_event_gpa = desc_gpa + virtio::packed_desc_ring_bytes(size);
    device_event_gpa = driver_event_gpa + 4;
    next_buf = (device_event_gpa + 4 + 4095) & ~uint64_t{4095};
    std::memset(g.host(desc_gpa), 0, next_buf - desc_gpa);
  }

  virtio::PackedDesc* desc() { return reinterpret_cast<virtio::PackedDesc*>(g.host(desc_gpa)); }
  virtio::PackedEvent& driver_event() {
    return *reinterpret_cast<virtio::PackedEvent*>(g.host(driver_event_gpa));
  }
  virtio::PackedEvent& device_event() {
    return *reinterpret_cast<virtio::PackedEvent*>(g.host(device_event_gpa));
  }

  /// Layout as the device sees it (through the GuestMemory's own mapping).
  PackedLayout layout() {
    PackedLayout l;
    l.desc = g.gm.uva_to_host(g.uva(desc_gpa), virtio::packed_desc_ring_bytes(size));
    l.driver_event = g.gm.uva_to_host(g.uva(driver_event_gpa), 4);
    l.device_event = g.gm.uva_to_host(g.uva(device_event_gpa), 4);
    l.desc_gpa = desc_gpa;
    l.size = size;
    return l;
  }

  uint64_t alloc(uint32_t len, uint32_t align = 16) {
    next_buf = (next_buf + align - 1) & ~uint64_t(align - 1);
    uint64_t gpa = next_buf;
    next_buf += len;
    if (next_buf > TestGuest::kGpa + g.size) throw std::runtime_error("test guest full");
    return gpa;
  }

  /// AVAIL/USED bits of an available descriptor at a position with wrap counter `wrap`.
  static uint16_t avail_bits(bool wrap) {
    return wrap ? virtio::kPackedDescFAvail : virtio::kPackedDescFUsed;
  }

  struct Seg {
    uint32_t len;
    bool write;
    const void* data = nullptr;  // copied into the buffer when set
    uint64_t gpa = 0;            // 0: a fresh buffer
  };

  /// Writes raw descriptors from next_avail on (flags as given, plus the right AVAIL/USED
  /// bits), the first one's flags last, and advances. Returns the first position.
  uint16_t add_raw(const std::vector<virtio::PackedDesc>& ds) {
    uint16_t first = next_avail;
    uint16_t first_flags = 0;
    for (size_t k = 0; k < ds.size(); ++k) {
      virtio::PackedDesc d = ds[k];
      d.flags = static_cast<uint16_t>(d.flags | avail_bits(avail_wrap));
      if (k == 0) {
        first_flags = d.flags;
        d.flags = desc()[next_avail].flags;  // unchanged until the rest is written
      }
      desc()[next_avail] = d;
      if (++next_avail == size) {
        next_avail = 0;
        avail_wrap = !avail_wrap;
      }
    }
    __atomic_store_n(&desc()[first].flags, first_flags, __ATOMIC_RELEASE);
    return first;
  }

  /// Makes a chain of fresh buffers available as buffer `id` (the id in its last descriptor).
  void add_chain(uint16_t id, const std::vector<Seg>& segs) {
    std::vector<virtio::PackedDesc> ds;
    for (size_t k = 0; k < segs.size(); ++k) {
      uint64_t gpa = segs[k].gpa ? segs[k].gpa : alloc(segs[k].len);
      if (segs[k].data) std::memcpy(g.host(gpa), segs[k].data, segs[k].len);
      bool last = k + 1 == segs.size();
      ds.push_back({gpa, segs[k].len, static_cast<uint16_t>(last ? id : 0),
                    static_cast<uint16_t>((segs[k].write ? virtio::kDescFWrite : 0) |
                                          (last ? 0 : virtio::kDescFNext))});
    }
    in_flight[id] = static_cast<uint16_t>(segs.size());
    add_raw(ds);
  }

  /// Makes an indirect table of `segs` available as buffer `id` (one ring entry).
  void add_indirect(uint16_t id, const std::vector<Seg>& segs) {
    uint64_t table = alloc(uint32_t(segs.size() * 16), 16);
    auto* t = reinterpret_cast<virtio::PackedDesc*>(g.host(table));
    for (size_t k = 0; k < segs.size(); ++k) {
      uint64_t gpa = alloc(segs[k].len);
      if (segs[k].data) std::memcpy(g.host(gpa), segs[k].data, segs[k].len);
      t[k] = {gpa, segs[k].len, 0,
              static_cast<uint16_t>(segs[k].write ? virtio::kDescFWrite : 0)};
    }
    in_flight[id] = 1;
    add_raw({{table, uint32_t(segs.size() * 16), id, virtio::kDescFIndirect}});
  }

  struct Used {
    uint16_t id;
    uint32_t len;
    uint16_t flags;
  };
  /// Takes the next used descriptor, skipping the entries of its buffer. False if none.
  bool pop_used(Used* out) {
    uint16_t f = __atomic_load_n(&desc()[next_used].flags, __ATOMIC_ACQUIRE);
    bool avail = (f & virtio::kPackedDescFAvail) != 0, used = (f & virtio::kPackedDescFUsed) != 0;
    if (avail != used || used != used_wrap) return false;
    const virtio::PackedDesc& d = desc()[next_used];
    *out = {d.id, d.len, f};
    auto it = in_flight.find(d.id);
    if (it == in_flight.end()) throw std::runtime_error("used id not in flight");
    uint32_t n = next_used + it->second;
    in_flight.erase(it);
    if (n >= size) {
      n -= size;
      used_wrap = !used_wrap;
    }
    next_used = static_cast<uint16_t>(n);
    return true;
  }
};

}  // namespace uvs::netback::test
