// SPDX-License-Identifier: MIT
// NetQueuePair: buffer allocation, TX chain building, RX reassembly and notification waits.
#include "netback/frontend/net_queue_pair.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace uvs::frontend {

namespace virtio = netback::virtio;

namespace {

int64_t mono_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void drain_eventfd(int fd) noexcept {
  uint64_t v;
  ssize_t r = ::read(fd, &v, sizeof(v));
  (void)r;  // EAGAIN when nothing was signalled: fine either way
}

// Waits for `fd` to become readable until `deadline_ns`; true if it did.
bool wait_readable(int fd, int64_t deadline_ns) noexcept {
  int64_t left = deadline_ns - mono_ns();
  if (left <= 0) return false;
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>((left + 999'999) / 1'000'000));
  return r > 0;
}

}  // namespace

QueuePairStats& QueuePairStats::operator+=(const QueuePairStats& o) noexcept {
  tx_frames += o.tx_frames;
  tx_bytes += o.tx_bytes;
  tx_completed += o.tx_completed;
  tx_kicks += o.tx_kicks;
  tx_ring_full += o.tx_ring_full;
  tx_too_big += o.tx_too_big;
  rx_frames += o.rx_frames;
  rx_bytes += o.rx_bytes;
  rx_kicks += o.rx_kicks;
  rx_calls += o.rx_calls;
  rx_truncated += o.rx_truncated;
  rx_bad += o.rx_bad;
  bad_used += o.bad_used;
  return *this;
}

NetQueuePair::~NetQueuePair() {
  for (int fd : {rx_kick_, rx_call_, tx_kick_, tx_call_}) {
    if (fd >= 0) ::close(fd);
  }
}

Status NetQueuePair::init(GuestRam& ram, const QueuePairConfig& config) {
  if (ram_ != nullptr) return Status::fail(FrontendError::kInvalidArgument, "queue pair already initialised");
  const uint32_t n = config.queue_size;
  if (config.hdr_len != 10 && config.hdr_len != 12) {
    return Status::fail(FrontendError::kInvalidArgument, "virtio-net header must be 10 or 12 bytes");
  }
  if (config.rx_buf_len < config.hdr_len + 1 || config.tx_buf_len < config.hdr_len + 1) {
    return Status::fail(FrontendError::kInvalidArgument, "RX/TX buffers smaller than the virtio-net header");
  }
  ram_ = &ram;
  cfg_ = config;
  const size_t nregions = config.spread_regions ? ram.regions().size() : 1;
  auto ring_gpa = [&]() { return ram.alloc(DriverVirtqueue::footprint(n), 4096, 0); };
  auto rx_ring = ring_gpa();
  auto tx_ring = ring_gpa();
  if (!rx_ring || !tx_ring) return Status::fail(FrontendError::kMemory, "guest RAM too small for the rings");
  Status s = rx_.init(ram, n, DriverVirtqueue::layout(*rx_ring, n), config.event_idx);
  if (!s) return s;
  s = tx_.init(ram, n, DriverVirtqueue::layout(*tx_ring, n), config.event_idx);
  if (!s) return s;
  if (config.packed) {
    s = rx_.init_packed(ram, n, *rx_ring, config.event_idx);
    if (s) s = tx_.init_packed(ram, n, *tx_ring, config.event_idx);
    if (!s) return s;
  }

  rx_slot_gpa_.resize(n);
  rx_slot_host_.resize(n);
  rx_table_gpa_.resize(n);
  tx_slot_gpa_.resize(n);
  tx_slot_host_.resize(n);
  tx_table_gpa_.resize(n);
  tx_free_slots_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    size_t region = i % nregions;
    auto rx_buf = ram.alloc(config.rx_buf_len, 64, region);
    auto tx_buf = ram.alloc(config.tx_buf_len, 64, region);
    auto rx_tab = ram.alloc(2 * sizeof(virtio::VringDesc), 16, region);
    auto tx_tab = ram.alloc(kMaxTxSegments * sizeof(virtio::VringDesc), 16, region);
    if (!rx_buf || !tx_buf || !rx_tab || !tx_tab) {
      return Status::fail(FrontendError::kMemory, "guest RAM too small for the packet buffers");
    }
    rx_slot_gpa_[i] = *rx_buf;
    rx_slot_host_[i] = ram.host(*rx_buf, config.rx_buf_len);
    rx_table_gpa_[i] = *rx_tab;
    tx_slot_gpa_[i] = *tx_buf;
    tx_slot_host_[i] = ram.host(*tx_buf, config.tx_buf_len);
    tx_table_gpa_[i] = *tx_tab;
  }
  for (int* fd : {&rx_kick_, &rx_call_, &tx_kick_, &tx_call_}) {
    *fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (*fd < 0) return Status::fail(FrontendError::kMemory, "eventfd", errno);
  }
  restart(config.event_idx, config.mergeable, config.hdr_len, config.packed);
  return Status::success();
}

void NetQueuePair::restart(bool event_idx, bool mergeable, uint32_t hdr_len, bool packed) noexcept {
  cfg_.event_idx = event_idx;
  cfg_.mergeable = mergeable;
  cfg_.hdr_len = hdr_len;
  cfg_.packed = packed;
  // The rings keep their memory (sized for the split layout, which also holds a packed ring);
  // the layout and the EVENT_IDX rule may change between sessions.
  const uint32_t n = cfg_.queue_size;
  for (DriverVirtqueue* q : {&rx_, &tx_}) {
    const uint64_t base = q->placement().desc_gpa;
    if (packed) {
      (void)q->init_packed(*ram_, n, base, event_idx);
    } else {
      (void)q->init(*ram_, n, DriverVirtqueue::layout(base, n), event_idx);
    }
  }
  for (uint32_t i = 0; i < cfg_.queue_size; ++i) tx_free_slots_[i] = cfg_.queue_size - 1 - i;
  tx_free_top_ = cfg_.queue_size;
  for (int fd : {rx_kick_, rx_call_, tx_kick_, tx_call_}) drain_eventfd(fd);
  // The TX ring is reaped by polling in send(); RX interrupts are enabled only while sleeping.
  tx_.disable_interrupts();
  rx_.disable_interrupts();
  // A driver makes its receive buffers available before DRIVER_OK (virtio 1.x §5.1.6.3). The
  // kick stays pending in the eventfd until the backend starts watching it.
  for (uint32_t i = 0; i < cfg_.queue_size; ++i) {
    if (!post_rx(i)) break;
  }
  if (rx_.publish()) kick(false);
}

void NetQueuePair::resume() noexcept {
  for (int fd : {rx_kick_, rx_call_, tx_kick_, tx_call_}) drain_eventfd(fd);
  kick(false);
}

bool NetQueuePair::post_rx(uint32_t slot) noexcept {
  const uint64_t gpa = rx_slot_gpa_[slot];
  const uint32_t len = cfg_.rx_buf_len;
  const uint32_t h = cfg_.hdr_len;
  DescSegment two[2] = {{gpa, h, true}, {gpa + h, len - h, true}};
  switch (cfg_.rx_layout) {
    case RxLayout::kSingle: {
      DescSegment one{gpa, len, true};
      return rx_.add_chain({&one, 1}, slot) != DriverVirtqueue::kNoHead;
    }
    case RxLayout::kHeaderSeparate:
      return rx_.add_chain(two, slot) != DriverVirtqueue::kNoHead;
    case RxLayout::kIndirect:
      return rx_.add_indirect(two, rx_table_gpa_[slot], slot) != DriverVirtqueue::kNoHead;
  }
  return false;
}

void NetQueuePair::kick(bool tx) noexcept {
  uint64_t one = 1;
  ssize_t r = ::write(tx ? tx_kick_ : rx_kick_, &one, sizeof(one));
  (void)r;  // an eventfd write only fails at a counter of 2^64-2: impossible here
  if (tx) {
    ++stats_.tx_kicks;
  } else {
    ++stats_.rx_kicks;
  }
}

uint32_t NetQueuePair::build_tx_segments(uint64_t gpa, uint32_t frame_len,
                                         DescSegment* segs) const noexcept {
  const uint32_t h = cfg_.hdr_len;
  switch (cfg_.tx_layout) {
    case TxLayout::kSingle:
      segs[0] = {gpa, h + frame_len, false};
      return 1;
    case TxLayout::kHeaderSeparate:
      segs[0] = {gpa, h, false};
      if (frame_len == 0) return 1;
      segs[1] = {gpa + h, frame_len, false};
      return 2;
    case TxLayout::kScatter:
    case TxLayout::kIndirect: {
      // The header itself straddles two descriptors: a backend must not assume it is contiguous
      // (virtio 1.x §2.7.4, "Message Framing").
      uint32_t n = 0;
      segs[n++] = {gpa, 5, false};
      segs[n++] = {gpa + 5, h - 5, false};
      uint64_t at = gpa + h;
      uint32_t first = std::min<uint32_t>(frame_len, 7);
      uint32_t rest = frame_len - first;
      for (uint32_t piece : {first, rest / 2, rest - rest / 2}) {
        if (piece == 0) continue;
        segs[n++] = {at, piece, false};
        at += piece;
      }
      return n;
    }
  }
  return 0;
}

size_t NetQueuePair::reap_tx() noexcept {
  size_t done = 0;
  UsedChain u;
  while (tx_.pop_used(&u)) {
    if (u.token < cfg_.queue_size) tx_free_slots_[tx_free_top_++] = u.token;
    ++done;
  }
  stats_.tx_completed += done;
  return done;
}

QueuePairStats NetQueuePair::stats() const noexcept {
  QueuePairStats s = stats_;
  s.bad_used = rx_.bad_used() + tx_.bad_used();
  return s;
}

size_t NetQueuePair::send(std::span<const std::span<const uint8_t>> frames,
                          std::span<const virtio::VirtioNetHdrV1> hdrs) noexcept {
  reap_tx();
  const uint32_t h = cfg_.hdr_len;
  const bool indirect = cfg_.tx_layout == TxLayout::kIndirect;
  size_t n = 0;
  for (const auto& frame : frames) {
    if (frame.size() + h > cfg_.tx_buf_len) {
      ++stats_.tx_too_big;
      break;
    }
    const uint32_t len = static_cast<uint32_t>(frame.size());
    DescSegment segs[kMaxTxSegments];
    uint32_t nsegs = build_tx_segments(0, len, segs);
    if (tx_free_top_ == 0 || tx_.free_count() < (indirect ? 1 : nsegs)) {
      ++stats_.tx_ring_full;
      break;
    }
    uint32_t slot = tx_free_slots_[--tx_free_top_];
    uint8_t* host = tx_slot_host_[slot];
    // Without a caller's header the packet needs no offload: all zero (§5.1.6.2). A 10-byte
    // legacy header is the 12-byte one without num_buffers.
    std::memset(host, 0, h);
    if (n < hdrs.size()) std::memcpy(host, &hdrs[n], h < sizeof hdrs[n] ? h : sizeof hdrs[n]);
    if (len != 0) std::memcpy(host + h, frame.data(), len);
    nsegs = build_tx_segments(tx_slot_gpa_[slot], len, segs);
    if (indirect) {
      tx_.add_indirect({segs, nsegs}, tx_table_gpa_[slot], slot);
    } else {
      tx_.add_chain({segs, nsegs}, slot);
    }
    ++n;
    stats_.tx_bytes += len;
  }
  stats_.tx_frames += n;
  if (n != 0 && tx_.publish()) kick(true);
  return n;
}

size_t NetQueuePair::drain_rx(std::span<RxFrame> out) noexcept {
  const uint32_t h = cfg_.hdr_len;
  size_t n = 0;
  size_t reposted = 0;
  while (n < out.size()) {
    // Look at the used index once, before peeking: re-reading it after an empty peek could see
    // an entry the device published in between and skip it as if it were bad, losing a buffer.
    if (rx_.used_pending() == 0) break;
    UsedChain first;
    if (!rx_.peek_used(0, &first)) {
      rx_.skip_used();  // an entry is pending, so the head itself is bad: drop just that one
      continue;
    }
    const uint8_t* slot = rx_slot_host_[first.token];
    uint16_t nbufs = 1;
    virtio::VirtioNetHdrV1 hdr{};
    if (first.len >= h && first.len <= cfg_.rx_buf_len) {
      std::memcpy(&hdr, slot, h);
      if (cfg_.mergeable) nbufs = hdr.num_buffers;
    } else {
      nbufs = 0;  // impossible length: drop this buffer alone
    }
    // The device publishes a whole packet with one used->idx update; wait for the rest if not.
    if (nbufs > 1 && rx_.used_pending() < nbufs) break;
    RxFrame& f = out[n];
    f.len = 0;
    f.truncated = false;
    f.num_buffers = nbufs;
    f.hdr = hdr;
    bool bad = nbufs == 0;
    uint32_t copied = 0;
    for (uint16_t b = 0; b < std::max<uint16_t>(nbufs, 1); ++b) {
      UsedChain u;
      if (!rx_.pop_used(&u)) {
        bad = true;
        break;
      }
      const bool is_first = b == 0;
      const uint32_t skip = is_first ? h : 0;
      if (u.len > cfg_.rx_buf_len || u.len < skip) {
        bad = true;
      } else if (!bad) {
        uint32_t bytes = u.len - skip;
        f.len += bytes;
        uint32_t room = f.capacity > copied ? f.capacity - copied : 0;
        uint32_t take = std::min(room, bytes);
        if (take != 0) std::memcpy(f.data + copied, rx_slot_host_[u.token] + skip, take);
        copied += take;
      }
      post_rx(u.token);
      ++reposted;
    }
    if (bad) {
      ++stats_.rx_bad;
      continue;
    }
    f.truncated = f.data != nullptr && f.len > f.capacity;
    if (f.truncated) ++stats_.rx_truncated;
    stats_.rx_bytes += f.len;
    ++n;
  }
  stats_.rx_frames += n;
  if (reposted != 0 && rx_.publish()) kick(false);
  return n;
}

size_t NetQueuePair::receive(std::span<RxFrame> out, int timeout_ms) noexcept {
  size_t n = drain_rx(out);
  if (n != 0 || timeout_ms <= 0 || out.empty()) return n;
  const int64_t deadline = mono_ns() + int64_t(timeout_ms) * 1'000'000;
  for (;;) {
    if (!rx_.enable_interrupts()) {
      if (wait_readable(rx_call_, deadline)) {
        drain_eventfd(rx_call_);
        ++stats_.rx_calls;
      }
    }
    rx_.disable_interrupts();
    n = drain_rx(out);
    if (n != 0 || mono_ns() >= deadline) return n;
    // Pending entries that are not yet a whole packet: don't spin at full speed.
    if (rx_.used_pending() != 0) wait_readable(rx_call_, std::min(deadline, mono_ns() + 1'000'000));
  }
}

bool NetQueuePair::flush_tx(int timeout_ms) noexcept {
  const int64_t deadline = mono_ns() + int64_t(timeout_ms) * 1'000'000;
  for (;;) {
    reap_tx();
    if (tx_.in_flight() == 0) return true;
    if (!tx_.enable_interrupts()) {
      if (wait_readable(tx_call_, deadline)) drain_eventfd(tx_call_);
    }
    tx_.disable_interrupts();
    reap_tx();
    if (tx_.in_flight() == 0) return true;
    if (mono_ns() >= deadline) return false;
  }
}

}  // namespace uvs::frontend
