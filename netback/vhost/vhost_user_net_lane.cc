// SPDX-License-Identifier: MIT
// VhostUserNetLane: kick handlers, TX bursts and per-flow RX queue choice for one thread's pairs.
#include "netback/vhost/vhost_user_net_lane.h"

#include <cassert>

#include "netback/common/virtio_defs.h"
#include "port/flow_hash.h"

namespace uvs::netback {

namespace {

// TX bursts per wake-up before yielding to the loop (the rest continues in a bottom half), so
// one busy guest cannot starve other ports on the thread.
constexpr int kTxBurstsPerRun = 4;
// Longest idle re-check period of TX rings whose frontend passed no kick fd (VRING_NOFD_MASK):
// the added latency of a frame after a silence.
constexpr int64_t kNofdIdleMaxNs = 100'000;

}  // namespace

class VhostUserNetLane::KickHandler final : public ev::FdHandler {
 public:
  KickHandler(VhostUserNetLane* lane, uint32_t index) : lane_(lane), index_(index) {}
  void on_readable() override { lane_->on_kick(index_); }
  // Only TX rings are work sources: RX buffers are consumed when frames arrive for the guest.
  bool can_poll() const override { return virtio::is_tx_queue(index_); }
  bool poll() override { return lane_->dev_.vring(index_).pending(); }
  void poll_ready() override { lane_->process_tx(slot()); }
  void poll_begin() override { lane_->dev_.vring(index_).disable_notifications(); }
  void poll_end() override { lane_->dev_.vring(index_).enable_notifications(); }
  uint32_t slot() const { return slot_; }
  void set_slot(uint32_t s) { slot_ = s; }

 private:
  VhostUserNetLane* lane_;
  uint32_t index_;
  uint32_t slot_ = 0;
};

/// The TX rings with no kick fd have nothing to wait on: the loop polls them (busy-polling
/// while they carry traffic, re-checking within kNofdIdleMaxNs while idle).
class VhostUserNetLane::NofdPoller final : public ev::Poller {
 public:
  explicit NofdPoller(VhostUserNetLane* lane) : lane_(lane) {}
  bool poll() override { return lane_->poll_nofd_rings(); }

 private:
  VhostUserNetLane* lane_;
};

VhostUserNetLane::VhostUserNetLane(ev::EventLoop& loop, std::string name, VhostUserDevice& dev,
                                   VhostUserLaneOwner& owner, std::vector<uint32_t> pairs)
    : loop_(loop),
      name_(std::move(name)),
      dev_(dev),
      owner_(owner),
      pairs_(std::move(pairs)),
      resume_bh_(loop, ev::Callback::bind<&VhostUserNetLane::on_resume>(this)) {
  assert(pairs_.size() <= kMaxQueuePairs);
  for (uint32_t k = 0; k < pairs_.size(); ++k) {
    for (uint32_t index : {virtio::rx_queue_index(pairs_[k]), virtio::tx_queue_index(pairs_[k])}) {
      kick_handlers_.push_back(std::make_unique<KickHandler>(this, index));
      kick_handlers_.back()->set_slot(k);
    }
  }
  kick_regs_.resize(kick_handlers_.size());
  nofd_poller_ = std::make_unique<NofdPoller>(this);
  tx_scratch_ = std::make_unique<TxScratch>();
  rx_scratch_ = std::make_unique<RxScratch>();
  spread_ = std::make_unique<SpreadScratch>();
  qstats_.resize(pairs_.size());
}

VhostUserNetLane::~VhostUserNetLane() { stop(); }

bool VhostUserNetLane::serves(uint32_t index) const noexcept {
  for (uint32_t p : pairs_) {
    if (p == index / 2) return true;
  }
  return false;
}

void VhostUserNetLane::start(const LaneConfig& cfg) noexcept {
  cfg_ = cfg;
  caps_.store(cfg.offload.guest_caps, std::memory_order_relaxed);
  failed_ = false;
  started_ = true;
  for (uint32_t p : pairs_) {
    attach_ring(virtio::rx_queue_index(p));
    attach_ring(virtio::tx_queue_index(p));
  }
}

void VhostUserNetLane::stop() noexcept {
  started_ = false;
  for (auto& r : kick_regs_) r.reset();
  nofd_reg_.reset();
  resume_bh_.cancel();
  resume_mask_ = 0;
}

void VhostUserNetLane::detach_ring(uint32_t index) noexcept {
  for (size_t h = 0; h < kick_handlers_.size(); ++h) {
    // Handler h serves vring index rx/tx of pair pairs_[h / 2].
    const uint32_t idx = (h % 2) ? virtio::tx_queue_index(pairs_[h / 2])
                                 : virtio::rx_queue_index(pairs_[h / 2]);
    if (idx != index) continue;
    kick_regs_[h].reset();
    if (virtio::is_tx_queue(index)) resume_mask_ &= ~(uint64_t{1} << (h / 2));
  }
}

void VhostUserNetLane::attach_ring(uint32_t index) noexcept {
  if (!started_) return;
  Vring& v = dev_.vring(index);
  if (!v.running()) return;
  const bool tx = virtio::is_tx_queue(index);
  size_t h = kick_handlers_.size();
  for (size_t k = 0; k < pairs_.size(); ++k) {
    if (pairs_[k] == index / 2) h = 2 * k + (tx ? 1 : 0);
  }
  if (h == kick_handlers_.size()) return;
  const uint32_t slot = uint32_t(h / 2);
  // We never wait for RX buffers (send_burst takes what fits, the switch drops the rest), so
  // the guest need not kick after refilling: that saves it an exit per refill.
  if (!tx) v.disable_notifications();
  if (v.kick_fd >= 0) {
    kick_regs_[h] = loop_.add_fd(v.kick_fd, ev::Events::kRead, kick_handlers_[h].get(),
                                 /*external=*/true);
  } else if (tx && !nofd_reg_.valid()) {
    ev::PollerOptions po;
    po.idle_max_ns = kNofdIdleMaxNs;
    po.external = true;  // guest-triggered, like the kick fds it stands in for
    nofd_reg_ = loop_.add_poller(nofd_poller_.get(), po);
  }
  // Buffers posted before the ring started get no kick (vhost-user.rst: back-ends SHOULD NOT
  // expect one), so look now.
  if (tx && v.pending()) {
    resume_mask_ |= uint64_t{1} << slot;
    resume_bh_.schedule();
  }
}

void VhostUserNetLane::fail(const char* what, const char* reason) noexcept {
  stop();
  failed_ = true;
  owner_.lane_failed(*this, what, reason);
}

// ---- TX ----

void VhostUserNetLane::on_kick(uint32_t index) noexcept {
  Vring& v = dev_.vring(index);
  v.drain_kick();
  for (uint32_t k = 0; k < pairs_.size(); ++k) {
    if (pairs_[k] != index / 2) continue;
    ++qstats_[k].kicks;
    if (virtio::is_tx_queue(index)) process_tx(k);
  }
}

void VhostUserNetLane::process_tx(uint32_t slot) noexcept {
  if (!started_) return;
  const uint32_t pair = pairs_[slot];
  Vring& v = dev_.vring(virtio::tx_queue_index(pair));
  if (!v.running()) return;
  NetQueueStats& qs = qstats_[slot];
  for (int b = 0; b < kTxBurstsPerRun; ++b) {
    BurstResult r = v.with_ring([&](auto& ring) {
      return net_tx_burst(ring, cfg_.hdr_len, cfg_.offload, *origin_, sink_, *tx_scratch_, qs);
    });
    if (r.notify && v.signal()) ++qs.calls;
    if (r.bad_hdrs != 0) [[unlikely]] {
      uint64_t suppressed = 0;
      if (bad_hdr_log_.allow(&suppressed)) {
        log_port(LogLevel::kWarn, name_,
                 "dropped %u guest frame(s) with a bad virtio-net header: %s (%llu similar lines "
                 "suppressed)",
                 r.bad_hdrs, bad_hdr_name(r.last_bad_hdr),
                 static_cast<unsigned long long>(suppressed));
      }
    }
    if (r.broken()) {
      fail("TX ring", r.reason ? r.reason : to_string(r.error));
      return;
    }
    if (!started_) return;  // the sink's work broke this port (e.g. our own RX ring)
    if (r.count < port::kMaxBurst) break;
  }
  // Re-arm the guest's kick (EVENT_IDX) and catch buffers that raced with it; leftover work
  // continues in a bottom half so other fds get their turn first.
  if (v.update_avail_event()) {
    resume_mask_ |= uint64_t{1} << slot;
    resume_bh_.schedule();
  }
}

void VhostUserNetLane::on_resume() noexcept {
  uint64_t mask = resume_mask_;
  resume_mask_ = 0;
  while (mask && started_) {
    uint32_t slot = static_cast<uint32_t>(__builtin_ctzll(mask));
    mask &= mask - 1;
    process_tx(slot);
  }
}

bool VhostUserNetLane::poll_nofd_rings() noexcept {
  bool any = false;
  bool work = false;
  for (uint32_t k = 0; k < pairs_.size() && started_; ++k) {
    Vring& v = dev_.vring(virtio::tx_queue_index(pairs_[k]));
    if (v.running() && v.kick_fd < 0) {
      any = true;
      if (v.pending()) {
        work = true;
        process_tx(k);
      }
    }
  }
  // The last no-fd ring stopped (or got a kick fd): nothing is left to poll.
  if (!any) nofd_reg_.reset();
  return work;
}

// ---- RX ----

bool VhostUserNetLane::rx_into(uint32_t k, std::span<const port::Frame> frames,
                               size_t* taken) noexcept {
  Vring& v = dev_.vring(virtio::rx_queue_index(pairs_[k]));
  BurstResult r = v.with_ring([&](auto& ring) {
    return net_rx_burst(ring, cfg_.hdr_len, cfg_.mergeable, cfg_.offload.guest_caps, frames,
                        *rx_scratch_, qstats_[k]);
  });
  if (r.notify && v.signal()) ++qstats_[k].calls;
  if (r.broken()) {
    fail("RX ring", r.reason ? r.reason : to_string(r.error));
    return false;
  }
  *taken = r.count;
  qstats_[k].out_drop_no_buffers += frames.size() - r.count;
  return true;
}

size_t VhostUserNetLane::send_burst(std::span<const port::Frame> frames) noexcept {
  if (frames.empty()) return 0;
  uint32_t running[kMaxQueuePairs];
  uint32_t nrunning = 0;
  if (started_) {
    for (uint32_t k = 0; k < pairs_.size(); ++k) {
      if (dev_.vring(virtio::rx_queue_index(pairs_[k])).running()) running[nrunning++] = k;
    }
  }
  if (nrunning == 0) {
    out_drop_not_ready_ += frames.size();
    return 0;
  }
  if (nrunning == 1) {
    size_t taken = 0;
    return rx_into(running[0], frames, &taken) ? taken : 0;
  }
  return send_spread(frames, running, nrunning);
}

size_t VhostUserNetLane::send_spread(std::span<const port::Frame> frames, const uint32_t* running,
                                     uint32_t nrunning) noexcept {
  // A flow keeps to one RX queue, so the guest sees its frames in order; bits above the low
  // ones, which the switch uses to pick the lane, spread flows over the lane's queues.
  size_t done = 0;
  while (done < frames.size()) {
    const auto chunk = frames.subspan(done, std::min(frames.size() - done, port::kMaxBurst));
    uint32_t present = 0;  // queues used by this chunk (bit per running[] entry, up to 64)
    for (size_t i = 0; i < chunk.size(); ++i) {
      const uint8_t q = uint8_t((port::flow_hash(chunk[i]) >> 16) % nrunning);
      spread_->queue[i] = q;
      if (q < 32) present |= uint32_t{1} << q;
    }
    size_t taken_total = 0;
    for (uint32_t q = 0; q < nrunning; ++q) {
      if (q < 32 && !(present & (uint32_t{1} << q))) continue;
      size_t n = 0;
      for (size_t i = 0; i < chunk.size(); ++i) {
        if (spread_->queue[i] == q) spread_->frames[n++] = chunk[i];
      }
      if (n == 0) continue;
      size_t taken = 0;
      if (!rx_into(running[q], {spread_->frames, n}, &taken)) return done + taken_total;
      taken_total += taken;
    }
    done += chunk.size();
    // Frames a full queue refused are already counted (out_drop_no_buffers); report only what
    // the guest took so the switch's counters agree.
    if (taken_total < chunk.size()) return done - chunk.size() + taken_total;
  }
  return done;
}

port::PortState VhostUserNetLane::state() const noexcept {
  if (failed_) return port::PortState::kBroken;
  if (!started_) return port::PortState::kDown;
  for (uint32_t p : pairs_) {
    if (dev_.vring(virtio::rx_queue_index(p)).running() ||
        dev_.vring(virtio::tx_queue_index(p)).running()) {
      return port::PortState::kUp;
    }
  }
  return port::PortState::kDown;
}

}  // namespace uvs::netback
