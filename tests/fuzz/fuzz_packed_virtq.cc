// SPDX-License-Identifier: MIT
// libFuzzer target: the packed-ring descriptor walk (virtio 1.1 §2.7: wrap counters, chains,
// indirect tables), out-of-order completion, event suppression and the virtio-net TX/RX bursts
// over a fuzzed packed ring in fuzzed guest memory split into two separately allocated regions
// (so ASan sees any access outside them), with or without a dirty log.
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
#include "netback/vhost/packed_virtq.h"
#include "netback/common/virtio_defs.h"
#include "tests/fuzz/fuzz_ports.h"

using namespace uvs;
using namespace uvs::fuzz;
using namespace uvs::netback;

namespace {

constexpr uint64_t kGpa = 0x10000;

}  // namespace

// Input: 8 config bytes, then guest memory contents.
//   [0] queue size - 1 (low 6 bits: 1..64, any size), mode (bits 6-7: 0 pop, 1 TX, 2 RX,
//       3 RX mergeable)
//   [1] features: bit0 event_idx, bit1 indirect, bit2 notify_on_empty; bit3 dirty logging on,
//       bit4 ring writes logged, bits 5-7 where the device event area is logged (some past the
//       log)
//   [2..3] vring base (index % size | wrap << 15)   [4..5] split point of memory (% size)
//   [6] hdr len 10/12, bit1: pop mode returns chains in reverse order   [7] frame len
// Memory layout: descriptor ring at 0 (16 * size), driver event, device event, then buffers.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const uint32_t qsize = (data[0] & 63) + 1u;
  const int mode = data[0] >> 6;
  VirtqFeatures feat{(data[1] & 1) != 0, (data[1] & 2) != 0, (data[1] & 4) != 0};
  uint16_t base_raw;
  std::memcpy(&base_raw, data + 2, 2);
  PackedPos base = PackedVirtq::decode(base_raw);
  base.idx = static_cast<uint16_t>(base.idx % qsize);
  uint16_t split_raw;
  std::memcpy(&split_raw, data + 4, 2);
  const uint32_t hdr_len = (data[6] & 1) ? 12 : 10;
  const bool reverse = (data[6] & 2) != 0;
  const uint32_t frame_len = 14 + data[7] * 4;

  const size_t driver_off = 16 * qsize;
  const size_t device_off = driver_off + 4;
  const size_t ring_end = device_off + 4;
  size_t mem_size = size - 8;
  if (mem_size < ring_end + 64) mem_size = ring_end + 64;

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
  PackedLayout l{r1.get(), r1.get() + driver_off, r1.get() + device_off, qsize, kGpa};
  PackedVirtq vq;
  if (!vq.setup(&gm, l, base, feat)) return 0;

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
      uint64_t gpas[8];
      UsedRef refs[64];
      int n = 0;
      for (int k = 0; k < 64; ++k) {
        VirtqChain c;
        VirtqError e = vq.pop(iov, 8, &c, gpas);
        if (e == VirtqError::kEmpty || is_fatal(e)) break;
        if (c.ndescs == 0 || c.ndescs > qsize) __builtin_trap();
        if (e == VirtqError::kOk) {
          if (c.readable + c.writable > 8) __builtin_trap();
          for (uint32_t i = 0; i < c.readable + c.writable; ++i) {
            volatile uint8_t* p = static_cast<uint8_t*>(iov[i].iov_base);
            p[0] = p[0];
            p[iov[i].iov_len - 1] = p[iov[i].iov_len - 1];
            uint64_t len = iov[i].iov_len;
            if (gm.gpa_to_host(gpas[i], &len) != iov[i].iov_base) __builtin_trap();
          }
        }
        refs[n++] = c.ref();
      }
      // Out-of-order completion: every chain returned once, in the order the input chose.
      for (int k = 0; k < n; ++k) vq.push(refs[reverse ? n - 1 - k : k], static_cast<uint32_t>(k));
      vq.flush();
      vq.enable_notifications();
      vq.disable_notifications();
      vq.update_avail_event();
      vq.flush_log();
      break;
    }
    case 1: {
      TouchSink sink;
      NullPort from;
      for (int k = 0; k < 4; ++k) {
        BurstResult r = net_tx_burst(vq, hdr_len, NetOffloadFeatures::from_acked(~uint64_t{0}),
                                     from, &sink, *tx, st);
        if (vq.log_overflowed() && !r.broken()) __builtin_trap();
        if (r.broken() || r.count == 0) break;
      }
      break;
    }
    default: {
      std::vector<uint8_t> payload(frame_len, 0x5a);
      iovec seg[2] = {{payload.data(), frame_len / 2},
                      {payload.data() + frame_len / 2, frame_len - frame_len / 2}};
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
