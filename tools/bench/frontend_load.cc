// SPDX-License-Identifier: MIT
// Scenario 1 of the netback benchmark: in-repo frontends pump time-stamped frames through the pair.
#include "tools/bench/frontend_load.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "eventloop/clock.h"
#include "netback/frontend/vhost_frontend.h"
#include "port/frame.h"
#include "tools/bench/cross_wired_pair.h"
#include "tools/bench/interrupt_guard.h"
#include "tools/bench/stats_util.h"
#include "tools/bench/thread_pin.h"

namespace uvs::bench {
namespace {

using ev::now_ns;
using frontend::RxFrame;
using frontend::VhostFrontend;

constexpr size_t kBurst = port::kMaxBurst;
// Frames in flight per direction never exceed the receiver's RX ring: the backend drops what
// finds no RX buffer, and a closed window is what keeps that from ever happening.
constexpr uint32_t kQueueSize = 256;
// Where the generator writes its sequence number and send time: after the Ethernet header, or
// after Ethernet + IPv4 + TCP (54 bytes) in a GSO superframe.
constexpr size_t kSeqOffset = 14;
constexpr size_t kStampOffset = 22;
constexpr uint32_t kStampEnd = 30;
constexpr size_t kGsoHeaders = 54;
// 64 KiB RX/TX buffers for GSO runs: the largest frame plus the virtio-net header.
constexpr uint32_t kBigBufLen = port::kMaxFrameLen + 12;
// Every 16th received frame gives a latency sample: ~400k samples over 2 s at 3 Mpps, enough
// for a stable p99 without a clock read per frame.
constexpr uint64_t kLatencyStride = 16;
constexpr size_t kMaxLatencySamples = size_t{1} << 20;
// No frame delivered for this long while the window is closed: look for backend drops.
constexpr int64_t kResyncNs = 20'000'000;
constexpr int64_t kStallNs = 1'000'000'000;
// The one-frame-in-flight phase: per-ping timeout, consecutive losses that end it, total budget.
constexpr int64_t kPingTimeoutNs = 10'000'000;
constexpr int kMaxPingLosses = 10;
constexpr int64_t kPingBudgetNs = 3'000'000'000;

constexpr uint8_t kMacA[6] = {0x02, 0, 0, 0, 0, 0x0a};
constexpr uint8_t kMacB[6] = {0x02, 0, 0, 0, 0, 0x0b};

/// One direction of traffic: frames go out of `tx`'s TX ring and come back on `rx`'s RX ring.
struct Direction {
  VhostFrontend* tx = nullptr;
  VhostFrontend* rx = nullptr;
  std::vector<uint8_t> store;  // kBurst frame templates, frame_len bytes each
  std::span<const uint8_t> burst[kBurst];
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t drops_seen = 0;  // backend drops already subtracted from the window
  int64_t last_progress_ns = 0;
};

/// The generator/sink thread's state: frame templates, RX scratch, counters, latency samples.
/// Lives on that thread only.
class Generator {
 public:
  Generator(const FrontendLoadOptions& o, CrossWiredPair& pair)
      : o_(o), pair_(pair), base_(o.gso_mss ? kGsoHeaders : 0) {
    for (int d = 0; d < 2; ++d) {
      Direction& x = dirs_[d];
      x.store.assign(kBurst * o.frame_len, 0);
      for (size_t i = 0; i < kBurst; ++i) {
        uint8_t* f = x.store.data() + i * o.frame_len;
        std::memcpy(f, d == 0 ? kMacB : kMacA, 6);
        std::memcpy(f + 6, d == 0 ? kMacA : kMacB, 6);
        f[12] = 0x88;  // local experimental EtherType (IEEE 802)
        f[13] = 0xb5;
        for (uint32_t k = base_ + kStampEnd; k < o.frame_len; ++k) f[k] = static_cast<uint8_t>(k);
        if (o.gso_mss) write_tcp_headers(f);
        x.burst[i] = {f, o.frame_len};
      }
    }
    // A TSO superframe as a Linux guest hands it over: the TCP checksum field holds only the
    // pseudo-header sum (zero here: nothing on this path verifies it), NEEDS_CSUM points at it.
    for (auto& h : hdrs_) {
      h = netback::virtio::VirtioNetHdrV1{};
      if (!o.gso_mss) continue;
      h.flags = netback::virtio::kNetHdrFNeedsCsum;
      h.gso_type = netback::virtio::kNetHdrGsoTcpV4;
      h.gso_size = o.gso_mss;
      h.hdr_len = kGsoHeaders;
      h.csum_start = 34;
      h.csum_offset = 16;
    }
    for (size_t i = 0; i < kBurst; ++i) {
      rx_[i].data = rx_store_[i];
      // Only the stamp is copied out; the rest is just counted.
      rx_[i].capacity = static_cast<uint32_t>(base_ + kStampEnd);
    }
    latency_.reserve(kMaxLatencySamples);
  }

  /// Pins itself, connects a frontend to each port, pumps traffic for warm-up + interval (and
  /// pings), fills `r` (or r->error), then disconnects. Blocks for the run's duration.
  void run(NetRunResult* r) {
    if (!pin_current_thread(o_.generator_cpu)) {
      r->error = "cannot pin the generator to CPU " + std::to_string(o_.generator_cpu);
      return;
    }
    frontend::FrontendOptions fo;
    fo.queue_size = kQueueSize;
    if (o_.gso_mss) {
      namespace feat = netback::virtio::feature;
      for (uint32_t bit : {feat::kNetCsum, feat::kNetGuestCsum, feat::kNetHostTso4,
                           feat::kNetGuestTso4}) {
        fo.features |= netback::virtio::feature_bit(bit);
      }
      fo.features &= ~netback::virtio::feature_bit(feat::kNetMrgRxbuf);
      fo.rx_buf_len = kBigBufLen;
      fo.tx_buf_len = kBigBufLen;
    }
    VhostFrontend fa(fo), fb(fo);
    for (auto [fe, path] : {std::pair{&fa, &pair_.path_a()}, std::pair{&fb, &pair_.path_b()}}) {
      frontend::Status s = fe->connect(*path);
      if (!s) {
        r->error = "frontend connect to " + *path + ": " + s.to_string();
        return;
      }
    }
    if (!pair_.wait_up(2000)) {
      r->error = "backend ports did not come up";
      return;
    }
    if (o_.dirty_log) {
      for (int k = 0; k < 2; ++k) {
        VhostFrontend& fe = k == 0 ? fa : fb;
        const uint64_t size = fe.dirty_log_size();
        logs_[k] = ::memfd_create("uvs-bench-dirty-log", MFD_CLOEXEC);
        if (logs_[k] < 0 || ::ftruncate(logs_[k], static_cast<off_t>(size)) != 0) {
          r->error = "dirty log memfd: " + std::string(std::strerror(errno));
          return;
        }
        frontend::Status s = fe.start_dirty_log(logs_[k], size);
        if (!s) {
          r->error = "start dirty logging: " + s.to_string();
          return;
        }
      }
    }
    dirs_[0].tx = &fa;
    dirs_[0].rx = &fb;
    dirs_[1].tx = &fb;
    dirs_[1].rx = &fa;
    ndirs_ = o_.both_ways ? 2 : 1;

    const int64_t t_start = now_ns();
    const int64_t t_measure = t_start + int64_t(o_.warmup_s * 1e9);
    const int64_t t_end = t_measure + int64_t(o_.seconds * 1e9);
    for (auto& x : dirs_) x.last_progress_ns = t_start;
    if (!pump_until(t_measure, false, r)) return;
    const PairSample s0 = pair_.sample();
    uint64_t recv0[2] = {dirs_[0].received, dirs_[1].received};
    if (!pump_until(t_end, true, r)) return;
    const PairSample s1 = pair_.sample();
    const double wall_s = double(s1.wall_ns - s0.wall_ns) / 1e9;
    uint64_t fwd = 0;
    for (int d = 0; d < 2; ++d) {
      r->pps[d] = double(dirs_[d].received - recv0[d]) / wall_s;
      fwd += s1.forwarded[d] - s0.forwarded[d];
      r->dropped += s1.dropped[d] - s0.dropped[d];
    }
    const double cpu = double(s1.cpu_ns - s0.cpu_ns);
    r->backend_cpu_ns_per_packet = fwd ? cpu / double(fwd) : 0;
    r->backend_core_share = cpu / double(s1.wall_ns - s0.wall_ns);
    r->lat_p50_ns = percentile(latency_, 50);
    r->lat_p99_ns = percentile(latency_, 99);

    if (o_.idle_latency_samples > 0) ping(r);
    // The frontend skips used entries naming heads it has not lent out; any would mean lost RX
    // buffers (and a window that no longer matches the ring), so the figures cannot be trusted.
    const uint64_t bad = fa.stats().queues.bad_used + fb.stats().queues.bad_used;
    if (bad != 0) {
      r->error = "the in-repo frontend skipped " + std::to_string(bad) +
                 " used-ring entries (lost RX buffers): figures discarded";
    }
    fa.disconnect();
    fb.disconnect();
  }

  ~Generator() {
    for (int fd : logs_) {
      if (fd >= 0) ::close(fd);
    }
  }
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

 private:
  /// Ethernet (to the template's MACs) + IPv4 + TCP headers of a superframe of frame_len bytes.
  void write_tcp_headers(uint8_t* f) const {
    const uint32_t ip_len = o_.frame_len - 14;
    const uint8_t ip[20] = {0x45, 0, uint8_t(ip_len >> 8), uint8_t(ip_len), 0, 1, 0x40, 0, 64, 6,
                            0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    const uint8_t tcp[20] = {0x9c, 0x40, 0x14, 0x51, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff};
    f[12] = 0x08;
    f[13] = 0x00;
    std::memcpy(f + 14, ip, sizeof ip);
    std::memcpy(f + 34, tcp, sizeof tcp);
  }

  /// Sends what each direction's window allows and receives what has arrived until `until`.
  bool pump_until(int64_t until, bool record, NetRunResult* r) {
    for (;;) {
      const int64_t now = now_ns();
      if (now >= until) return true;
      if (interrupted()) {
        r->error = "interrupted";
        return false;
      }
      for (int d = 0; d < ndirs_; ++d) send_some(dirs_[d], now);
      for (int d = 0; d < ndirs_; ++d) {
        if (!receive_some(d, record, r)) return false;
      }
    }
  }

  void send_some(Direction& x, int64_t now) {
    const uint64_t in_flight = x.sent - x.received;
    if (in_flight >= kQueueSize) return;
    const size_t n = std::min<size_t>(kBurst, kQueueSize - in_flight);
    for (size_t i = 0; i < n; ++i) {
      uint8_t* f = x.store.data() + i * o_.frame_len;
      const uint64_t seq = x.sent + i;
      std::memcpy(f + base_ + kSeqOffset, &seq, sizeof seq);
      std::memcpy(f + base_ + kStampOffset, &now, sizeof now);
    }
    x.sent += x.tx->send_frames({x.burst, n}, 0, {hdrs_, n});
  }

  /// Takes up to kBurst frames from `fe`'s RX ring without waiting. Asks for no more frames than
  /// the device has already published: NetQueuePair::drain_rx, on finding the used ring empty,
  /// re-reads it in skip_used() and would discard (and leak the buffer of) an entry the backend
  /// published in between. With one RX buffer per frame (frames < rx_buf_len, as here) pending
  /// used entries and frames are the same count, so drain_rx stops before it peeks at an empty
  /// ring.
  size_t receive_published(VhostFrontend* fe) {
    const uint16_t pending = fe->queue_pair(0).rx().used_pending();
    if (pending == 0) return 0;
    return fe->receive_frames({rx_, std::min<size_t>(pending, kBurst)}, 0);
  }

  /// Drains `d`'s RX ring once. False (with r->error) if the direction stalled for good.
  bool receive_some(int d, bool record, NetRunResult* r) {
    Direction& x = dirs_[d];
    const size_t n = receive_published(x.rx);
    if (n == 0) {
      if (x.sent == x.received) return true;
      const int64_t idle = now_ns() - x.last_progress_ns;
      if (idle < kResyncNs) return true;
      // Frames the backend dropped never arrive: take them out of the window.
      const uint64_t drops = pair_.sample().dropped[d];
      if (drops != x.drops_seen) {
        x.received += std::min(drops - x.drops_seen, x.sent - x.received);
        x.drops_seen = drops;
        x.last_progress_ns = now_ns();
        return true;
      }
      if (idle < kStallNs) return true;
      r->error = stall_report(d);
      return false;
    }
    const int64_t now = now_ns();
    x.last_progress_ns = now;
    for (size_t i = 0; i < n; ++i) {
      ++x.received;
      if (record && x.received % kLatencyStride == 0 && latency_.size() < latency_.capacity()) {
        int64_t sent_at;
        std::memcpy(&sent_at, rx_[i].data + base_ + kStampOffset, sizeof sent_at);
        latency_.push_back(now - sent_at);
      }
    }
    return true;
  }

  /// Says where a stalled direction's frames sit: still on the sender's TX ring (the backend
  /// stopped taking them: a lost kick) or delivered but not seen by the receiver.
  std::string stall_report(int d) {
    Direction& x = dirs_[d];
    const frontend::QueuePairStats tx = x.tx->stats().queues;
    const frontend::QueuePairStats rx = x.rx->stats().queues;
    const netback::NetQueueStats in = pair_.port_stats(d).total;
    const netback::NetQueueStats out = pair_.port_stats(1 - d).total;
    const bool tx_pending = x.tx->queue_pair(0).tx().in_flight() != 0;
    return "direction " + std::to_string(d) + " stalled with " +
           std::to_string(x.sent - x.received) + " frames in flight (generator: tx_frames=" +
           std::to_string(tx.tx_frames) + " tx_completed=" + std::to_string(tx.tx_completed) +
           " tx_kicks=" + std::to_string(tx.tx_kicks) + " tx_descs_in_flight=" +
           (tx_pending ? "yes" : "no") + " rx_frames=" + std::to_string(rx.rx_frames) +
           "; backend: in_frames=" + std::to_string(in.in_frames) +
           " kicks=" + std::to_string(in.kicks) + " out_frames=" + std::to_string(out.out_frames) +
           " out_drop_no_buffers=" + std::to_string(out.out_drop_no_buffers) + ")";
  }

  /// Unloaded latency: one frame A → B at a time, the receiver spinning on its RX ring.
  void ping(NetRunResult* r) {
    Direction& x = dirs_[0];
    // Let the loaded run's frames land first.
    const int64_t drain_end = now_ns() + 200'000'000;
    while (x.received < x.sent && now_ns() < drain_end) {
      for (int d = 0; d < ndirs_; ++d) {
        if (!receive_some(d, false, r)) return;
      }
    }
    std::vector<int64_t> lat;
    lat.reserve(size_t(o_.idle_latency_samples));
    const int64_t give_up = now_ns() + kPingBudgetNs;
    int lost_in_a_row = 0;
    for (int i = 0; i < o_.idle_latency_samples; ++i) {
      const int64_t t0 = now_ns();
      if (t0 >= give_up || lost_in_a_row == kMaxPingLosses || interrupted()) break;
      std::memcpy(x.store.data() + base_ + kStampOffset, &t0, sizeof t0);
      if (x.tx->send_frames({x.burst, 1}, 0, {hdrs_, 1}) != 1) continue;
      const int64_t deadline = t0 + kPingTimeoutNs;
      size_t n = 0;
      while (n == 0 && now_ns() < deadline) n = receive_published(x.rx);
      if (n == 0) {
        ++lost_in_a_row;  // lost (counted by the backend as a drop); take the next sample
        continue;
      }
      lost_in_a_row = 0;
      int64_t sent_at;
      std::memcpy(&sent_at, rx_[0].data + base_ + kStampOffset, sizeof sent_at);
      lat.push_back(now_ns() - sent_at);
    }
    r->idle_lat_p50_ns = percentile(lat, 50);
    r->idle_lat_p99_ns = percentile(lat, 99);
  }

  const FrontendLoadOptions& o_;
  CrossWiredPair& pair_;
  Direction dirs_[2];
  int ndirs_ = 1;
  const size_t base_;  // where seq and stamp start: 0, or after the GSO frame's headers
  netback::virtio::VirtioNetHdrV1 hdrs_[kBurst];
  RxFrame rx_[kBurst];
  uint8_t rx_store_[kBurst][kGsoHeaders + kStampEnd] = {};
  std::vector<int64_t> latency_;
  int logs_[2] = {-1, -1};  // the frontends' dirty logs (memfds), with dirty_log
};

}  // namespace

NetRunResult run_frontend_load(const FrontendLoadOptions& options) {
  NetRunResult r;
  if (options.gso_mss == 0 && (options.frame_len < kStampEnd || options.frame_len > 2048 - 12)) {
    r.error = "frame length must be 30..2036 bytes";
    return r;
  }
  if (options.gso_mss != 0 &&
      (options.frame_len < kGsoHeaders + kStampEnd + options.gso_mss ||
       options.frame_len > 14 + 65535)) {
    r.error = "a GSO frame must be 54 + 30 + MSS .. 65549 bytes";
    return r;
  }
  CrossWiredPair pair(options.dir, options.backend_cpu, options.poll_max_ns);
  if (!pair.error().empty()) {
    r.error = pair.error();
    return r;
  }
  // The generator object is large (latency buffer, templates): keep it off the thread's stack.
  auto gen = std::make_unique<Generator>(options, pair);
  std::thread t([&] { gen->run(&r); });
  t.join();
  return r;
}

}  // namespace uvs::bench
