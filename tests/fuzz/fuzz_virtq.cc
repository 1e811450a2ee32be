// SPDX-License-Identifier: MIT
// libFuzzer target: descriptor-chain walking and the virtio-net TX/RX bursts over a fuzzed ring
// in fuzzed guest memory split into two separately allocated regions (so ASan sees any access
// outside them, including across the boundary), with or without a migration dirty log that may
// be too small for the pages written.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "netback/vhost/dirty_log.h"
#include "netback/vhost/guest_memory.h"
#include "netback/vhost/net_datapath.h"
#include "netback/common/virtio_defs.h"
#include "netback/vhost/virtq.h"
#include "tests/fuzz/fuzz_ports.h"

using namespace uvs;
using namespace uvs::fuzz;
using namespace uvs::netback;

namespace {

constexpr uint64_t kGpa = 0x10000;

}  // namespace

// Input: 8 config bytes, then guest memory contents.
//   [0] queue size log2 (low 3 bits: 1..128), mode (bits 4-5: 0 pop, 1 TX, 2 RX, 3 RX mergeable)
//   [1] features: bit0 event_idx, bit1 indirect, bit2 notify_on_empty; bit3 dirty logging on,
//       bit4 used ring logged, bits 5-7 where (log_guest_addr, some of them past the log)
//   [2..3] last_avail_idx   [4..5] split point of memory (% size)   [6] hdr len 10/12  [7] frame len
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const uint32_t qsize = 1u << (data[0] & 7);
  const int mode = (data[0] >> 4) & 3;
  VirtqFeatures feat{(data[1] & 1) != 0, (data[1] & 2) != 0, (data[1] & 4) != 0};
  uint16_t last_avail;
  std::memcpy(&last_avail, data + 2, 2);
  uint16_t split_raw;
  std::memcpy(&split_raw, data + 4, 2);
  const uint32_t hdr_len = (data[6] & 1) ? 12 : 10;
  const uint32_t frame_len = 14 + data[7] * 4;

  // Ring parts at the start of memory: desc (16*q), avail (6+2q), used (aligned 4, 6+8q).
  const size_t avail_off = 16 * qsize;
  const size_t used_off = (avail_off + virtio::avail_ring_bytes(qsize) + 3) & ~size_t{3};
  const size_t ring_end = used_off + virtio::used_ring_bytes(qsize);
  size_t mem_size = size - 8;
  if (mem_size < ring_end + 64) mem_size = ring_end + 64;

  // Two regions, adjacent in guest-physical space, separate heap blocks; the rings live in the
  // first one. 16-byte aligned allocations (operator new) satisfy the ring alignment.
  size_t split = ring_end + (mem_size - ring_end) * split_raw / 65536;
  if (split == 0) split = 1;
  auto r1 = std::make_unique<uint8_t[]>(split);
  auto r2 = std::make_unique<uint8_t[]>(mem_size - split > 0 ? mem_size - split : 1);
  std::vector<uint8_t> all(mem_size, 0);
  std::memcpy(all.data(), data + 8, size - 8);
  std::memcpy(r1.get(), all.data(), split);
  if (mem_size > split) std::memcpy(r2.get(), all.data() + split, mem_size - split);

  GuestMemory gm;
  if (!gm.add_unowned_region({kGpa, split, 0x100000000ull, 0}, r1.get())) return 0;
  if (mem_size > split &&
      !gm.add_unowned_region({kGpa + split, mem_size - split, 0x200000000ull, 0}, r2.get())) {
    return 0;
  }
  VirtqLayout l{r1.get(), r1.get() + avail_off, r1.get() + used_off, qsize};
  Virtq vq;
  if (!vq.setup(&gm, l, last_avail, feat)) return 0;

  // A 16-byte log covers 128 pages (512 KiB): the fuzzed memory fits, some log_guest_addr
  // choices do not.
  static const int log_fd = [] {
    int fd = memfd_create("fuzz-dirty-log", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 4096) != 0) __builtin_trap();
    return fd;
  }();
  DirtyLog log;
  if (data[1] & 8) {
    if (!log.map(log_fd, 16, 0)) __builtin_trap();
    log.set_enabled(true);
    vq.set_log(&log, (data[1] & 16) != 0, static_cast<uint64_t>(data[1] >> 5) * 0x18000);
  }

  static auto tx = std::make_unique<TxScratch>();
  static auto rx = std::make_unique<RxScratch>();
  NetQueueStats st;

  switch (mode) {
    case 0: {
      iovec iov[8];
      for (int k = 0; k < 64; ++k) {
        VirtqChain c;
        VirtqError e = vq.pop(iov, 8, &c);
        if (e == VirtqError::kEmpty || is_fatal(e)) break;
        if (e == VirtqError::kOk) {
          if (c.readable + c.writable > 8 || c.head >= qsize) __builtin_trap();
          // Touch the segments: every byte must be inside a region.
          for (uint32_t i = 0; i < c.readable + c.writable; ++i) {
            volatile uint8_t* p = static_cast<uint8_t*>(iov[i].iov_base);
            p[0] = p[0];
            p[iov[i].iov_len - 1] = p[iov[i].iov_len - 1];
          }
        }
        vq.push(c.head, 0);
      }
      vq.flush();
      vq.enable_notifications();
      vq.disable_notifications();
      vq.update_avail_event();
      break;
    }
    case 1: {
      TouchSink sink;
      NullPort from;
      for (int k = 0; k < 4; ++k) {
        // Every offload allowed, so fuzzed headers reach the deepest validation.
        BurstResult r = net_tx_burst(vq, hdr_len, NetOffloadFeatures::from_acked(~uint64_t{0}),
                                     from, &sink, *tx, st);
        if (vq.log_overflowed() && !r.broken()) __builtin_trap();
        if (r.broken() || r.count == 0) break;
      }
      break;
    }
    default: {
      std::vector<uint8_t> payload(frame_len, 0x5a);
      iovec seg[2] = {{payload.data(), frame_len / 2}, {payload.data() + frame_len / 2,
                                                        frame_len - frame_len / 2}};
      port::Frame frames[4];
      for (auto& f : frames) f = port::Frame{seg, 2, frame_len};
      for (int k = 0; k < 4; ++k) {
        BurstResult r =
            net_rx_burst(vq, mode == 3 ? 12 : hdr_len, mode == 3, 0, frames, *rx, st);
        if (vq.log_overflowed() && !r.broken()) __builtin_trap();
        if (r.broken() || r.count == 0) break;
      }
      break;
    }
  }
  return 0;
}
