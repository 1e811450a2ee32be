// SPDX-License-Identifier: MIT
// RingDevice: a minimal device side of a split ring, so frontend ring tests can check the driver.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "netback/frontend/driver_virtqueue.h"
#include "netback/frontend/guest_ram.h"
#include "netback/common/virtio_defs.h"

namespace uvs::frontend::test {

/// One buffer of a chain as the device sees it.
struct DevSeg {
  uint64_t gpa;
  uint32_t len;
  bool writable;
};

/// One chain popped from the avail ring.
struct DevChain {
  uint16_t head = 0;
  bool indirect = false;
  std::vector<DevSeg> segs;
};

/// Reads the avail ring and writes the used ring of a DriverVirtqueue, trusting nothing but the
/// ring memory (like a backend would). Test-only: asserts via return values, no hardening.
class RingDevice {
 public:
  RingDevice(GuestRam& ram, DriverVirtqueue& q) : ram_(ram), q_(q) {}

  /// Pops the next published chain, following NEXT and INDIRECT; false when none is published.
  bool pop(DevChain* out) {
    namespace v = netback::virtio;
    uint16_t avail_idx = std::atomic_ref<uint16_t>(q_.avail()->idx).load(std::memory_order_acquire);
    if (avail_idx == last_avail_) return false;
    out->head = q_.avail()->ring[last_avail_ % q_.size()];
    out->segs.clear();
    out->indirect = false;
    ++last_avail_;
    const v::VringDesc* table = q_.desc_table();
    uint32_t table_len = q_.size();
    uint16_t i = out->head;
    if (table[i].flags & v::kDescFIndirect) {
      out->indirect = true;
      table_len = table[i].len / sizeof(v::VringDesc);
      table = reinterpret_cast<const v::VringDesc*>(ram_.host(table[i].addr, table[i].len));
      if (table == nullptr) return false;
      i = 0;
    }
    for (uint32_t guard = 0; guard < table_len; ++guard) {
      out->segs.push_back({table[i].addr, table[i].len, (table[i].flags & v::kDescFWrite) != 0});
      if (!(table[i].flags & v::kDescFNext)) break;
      i = table[i].next;
    }
    return true;
  }

  /// Gathers the readable bytes of a chain.
  std::vector<uint8_t> gather(const DevChain& c) {
    std::vector<uint8_t> out;
    for (const DevSeg& s : c.segs) {
      const uint8_t* p = ram_.host(s.gpa, s.len);
      if (p != nullptr) out.insert(out.end(), p, p + s.len);
    }
    return out;
  }

  /// Scatters `data` over the writable segments of `c`; returns bytes written.
  uint32_t scatter(const DevChain& c, const uint8_t* data, uint32_t len) {
    uint32_t done = 0;
    for (const DevSeg& s : c.segs) {
      if (done == len) break;
      uint32_t take = std::min(s.len, len - done);
      std::memcpy(ram_.host(s.gpa, s.len), data + done, take);
      done += take;
    }
    return done;
  }

  /// Queues a used entry; visible after flush().
  void push_used(uint16_t head, uint32_t len) {
    netback::virtio::VringUsedElem& e = q_.used()->ring[used_shadow_ % q_.size()];
    e.id = head;
    e.len = len;
    ++used_shadow_;
  }
  /// Publishes queued used entries; returns whether the driver asked for an interrupt.
  bool flush() {
    uint16_t old = used_published_;
    std::atomic_ref<uint16_t>(q_.used()->idx).store(used_shadow_, std::memory_order_release);
    used_published_ = used_shadow_;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (q_.event_idx()) {
      return netback::virtio::vring_need_event(load(q_.used_event_ptr()), used_shadow_, old);
    }
    return !(load(&q_.avail()->flags) & netback::virtio::kAvailFNoInterrupt);
  }

  /// Device-side suppression: avail_event (EVENT_IDX) or the NO_NOTIFY flag.
  void set_avail_event(uint16_t v) { store(q_.avail_event_ptr(), v); }
  void set_no_notify(bool on) { store(&q_.used()->flags, on ? netback::virtio::kUsedFNoNotify : 0); }

  /// Starts at `base` (what SET_VRING_BASE would say).
  void reset(uint16_t base) { last_avail_ = used_shadow_ = used_published_ = base; }
  uint16_t last_avail() const { return last_avail_; }

 private:
  // Fields the other side reads or writes concurrently go through atomic_ref, as in a device.
  static uint16_t load(uint16_t* p) { return std::atomic_ref<uint16_t>(*p).load(std::memory_order_relaxed); }
  static void store(uint16_t* p, uint16_t v) { std::atomic_ref<uint16_t>(*p).store(v, std::memory_order_relaxed); }

  GuestRam& ram_;
  DriverVirtqueue& q_;
  uint16_t last_avail_ = 0;
  uint16_t used_shadow_ = 0;
  uint16_t used_published_ = 0;
};

}  // namespace uvs::frontend::test
