// SPDX-License-Identifier: MIT
// TestGuest / TestRing: memfd-backed fake guest RAM and a driver-side split ring for netback tests.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "netback/vhost/guest_memory.h"
#include "netback/common/virtio_defs.h"
#include "netback/vhost/virtq.h"

namespace uvs::netback::test {

/// One memfd of `size` bytes mapped twice: once by the test (the "driver") and once by the
/// GuestMemory under test, at guest-physical `gpa` and frontend address `uva`.
struct TestGuest {
  static constexpr uint64_t kGpa = 0x100000;
  static constexpr uint64_t kUva = 0x7f0000000000;
  int fd = -1;
  uint8_t* mem = nullptr;
  size_t size = 0;
  GuestMemory gm;

  explicit TestGuest(size_t bytes = 1 << 20) : size(bytes) {
    fd = memfd_create("uvs-test-guest", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(size)) != 0) throw std::runtime_error("memfd");
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap");
    mem = static_cast<uint8_t*>(p);
    if (!gm.add_region({kGpa, size, kUva, 0}, fd)) throw std::runtime_error("add_region");
  }
  ~TestGuest() {
    gm.clear();
    munmap(mem, size);
    close(fd);
  }
  TestGuest(const TestGuest&) = delete;
  TestGuest& operator=(const TestGuest&) = delete;

  uint8_t* host(uint64_t gpa) { return mem + (gpa - kGpa); }
  uint64_t uva(uint64_t gpa) const { return gpa - kGpa + kUva; }
};

/// A driver-side split ring inside a TestGuest. Ring parts at fixed offsets; buffers allocated
/// from a bump area after them.
struct TestRing {
  TestGuest& g;
  uint32_t size;
  uint64_t desc_gpa, avail_gpa, used_gpa, next_buf;
  uint16_t avail_idx = 0;
  uint16_t next_free = 0;  // descriptors handed out linearly (tests reset() between cases)

  TestRing(TestGuest& guest, uint32_t qsize, uint64_t base_off = 0)
      : g(guest), size(qsize) {
    desc_gpa = TestGuest::kGpa + base_off;
    avail_gpa = desc_gpa + virtio::desc_table_bytes(size);
    used_gpa = (avail_gpa + virtio::avail_ring_bytes(size) + 4095) & ~uint64_t{4095};
    next_buf = (used_gpa + virtio::used_ring_bytes(size) + 4095) & ~uint64_t{4095};
    std::memset(g.host(desc_gpa), 0, next_buf - desc_gpa);
  }

  virtio::VringDesc* desc() { return reinterpret_cast<virtio::VringDesc*>(g.host(desc_gpa)); }
  virtio::VringAvail* avail() { return reinterpret_cast<virtio::VringAvail*>(g.host(avail_gpa)); }
  virtio::VringUsed* used() { return reinterpret_cast<virtio::VringUsed*>(g.host(used_gpa)); }
  uint16_t& used_event() { return avail()->ring[size]; }
  // avail_event sits right after the used ring's last element (virtio 1.x 2.7.8): address it
  // by byte offset, since it is not a member of any used element.
  uint16_t& avail_event() {
    return *reinterpret_cast<uint16_t*>(g.host(used_gpa) + virtio::used_ring_bytes(size) - 2);
  }

  /// Layout as the device sees it (through the GuestMemory's own mapping).
  VirtqLayout layout() {
    VirtqLayout l;
    l.desc = g.gm.uva_to_host(g.uva(desc_gpa), virtio::desc_table_bytes(size));
    l.avail = g.gm.uva_to_host(g.uva(avail_gpa), virtio::avail_ring_bytes(size));
    l.used = g.gm.uva_to_host(g.uva(used_gpa), virtio::used_ring_bytes(size));
    l.size = size;
    return l;
  }

  /// Reserves `len` bytes of buffer space; returns its gpa.
  uint64_t alloc(uint32_t len, uint32_t align = 16) {
    next_buf = (next_buf + align - 1) & ~uint64_t(align - 1);
    uint64_t gpa = next_buf;
    next_buf += len;
    if (next_buf > TestGuest::kGpa + g.size) throw std::runtime_error("test guest full");
    return gpa;
  }

  /// Writes descriptor `i`.
  void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next = 0) {
    desc()[i] = virtio::VringDesc{addr, len, flags, next};
  }

  /// Makes `head` available (and bumps avail idx).
  void publish(uint16_t head) {
    avail()->ring[avail_idx % size] = head;
    ++avail_idx;
    __atomic_store_n(&avail()->idx, avail_idx, __ATOMIC_RELEASE);
  }

  struct Seg {
    uint32_t len;
    bool write;
    const void* data = nullptr;  // copied into the buffer when set
  };
  /// Builds a direct chain of fresh buffers from descriptor next_free on and publishes it.
  /// Returns the head.
  uint16_t add_chain(const std::vector<Seg>& segs) {
    uint16_t head = next_free;
    for (size_t k = 0; k < segs.size(); ++k) {
      uint16_t i = next_free++;
      uint64_t gpa = alloc(segs[k].len);
      if (segs[k].data) std::memcpy(g.host(gpa), segs[k].data, segs[k].len);
      bool last = k + 1 == segs.size();
      set_desc(i, gpa, segs[k].len,
               uint16_t((segs[k].write ? virtio::kDescFWrite : 0) |
                        (last ? 0 : virtio::kDescFNext)),
               last ? 0 : uint16_t(i + 1));
    }
    publish(head);
    return head;
  }

  /// Builds an indirect chain (table of `segs`) in one main descriptor and publishes it.
  uint16_t add_indirect(const std::vector<Seg>& segs) {
    uint64_t table = alloc(uint32_t(segs.size() * 16), 16);
    auto* t = reinterpret_cast<virtio::VringDesc*>(g.host(table));
    for (size_t k = 0; k < segs.size(); ++k) {
      uint64_t gpa = alloc(segs[k].len);
      if (segs[k].data) std::memcpy(g.host(gpa), segs[k].data, segs[k].len);
      bool last = k + 1 == segs.size();
      t[k] = virtio::VringDesc{gpa, segs[k].len,
                               uint16_t((segs[k].write ? virtio::kDescFWrite : 0) |
                                        (last ? 0 : virtio::kDescFNext)),
                               uint16_t(last ? 0 : k + 1)};
    }
    uint16_t head = next_free++;
    set_desc(head, table, uint32_t(segs.size() * 16), virtio::kDescFIndirect);
    publish(head);
    return head;
  }

  uint16_t used_idx() { return __atomic_load_n(&used()->idx, __ATOMIC_ACQUIRE); }
};

}  // namespace uvs::netback::test
