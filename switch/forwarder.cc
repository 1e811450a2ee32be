// SPDX-License-Identifier: MIT
// Forwarder: the per-thread forwarding path (ingress burst -> per-port groups -> send or ring).
#include "switch/forwarder.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "eventloop/clock.h"
#include "port/flow_hash.h"

namespace uvs::bridge {

void PortSink::receive_burst(port::Port&, std::span<const port::Frame> frames) noexcept {
  fwd_->ingress(index_, lane_, frames);
}

Forwarder::Forwarder(unsigned thread, ev::EventLoop& loop, std::span<PortSlot> ports, Fdb& fdb,
                     size_t nthreads)
    : thread_(thread), loop_(&loop), ports_(ports), fdb_(fdb) {
  assert(thread < nthreads);
  inbox_.resize(nthreads);
  sources_.reserve(nthreads);
  drain_bh_ = std::make_unique<ev::BottomHalf>(loop, ev::Callback::bind<&Forwarder::drain>(this));
  active_.assign(ports.size(), 0);
  lane_here_.assign(ports.size(), kNoLane);
  active_list_.reserve(ports.size());
  for (auto& s : scratch_) {
    s = std::make_unique<Scratch>();
    s->out_count.assign(ports.size(), 0);
    s->out_frames.resize(ports.size());
    s->touched.reserve(ports.size());
    s->ring_dirty.assign(nthreads, 0);
    s->dirty_threads.reserve(nthreads);
  }
  drain_iov_.resize(port::kMaxBurst * kMaxSlotsPerFrame);
  for (auto& f : fallback_) f = std::make_unique<OffloadFallback>();
}

Forwarder::~Forwarder() { assert(!drain_bh_ && "Bridge must call shutdown() on the loop thread"); }

void Forwarder::shutdown() { drain_bh_.reset(); }

void Forwarder::install_inbox(unsigned src, std::unique_ptr<FrameRing> ring) {
  assert(loop_->in_loop_thread() && src < inbox_.size() && src != thread_ && !inbox_[src]);
  inbox_[src] = std::move(ring);
  sources_.push_back(src);  // never reallocates: reserved for every thread
}

void Forwarder::set_peers(std::span<Forwarder* const> peers) {
  peers_.assign(peers.begin(), peers.end());
}

void Forwarder::activate(PortIndex p) {
  assert(loop_->in_loop_thread());
  if (active_[p]) return;
  const PortSlot& slot = ports_[p];
  lane_here_[p] = kNoLane;
  for (uint8_t l = 0; l < slot.nlanes; ++l) {
    if (slot.lanes[l].thread == thread_) lane_here_[p] = l;
  }
  active_[p] = 1;
  active_list_.push_back(p);  // never reallocates: reserved for every port
}

void Forwarder::deactivate(PortIndex p) {
  assert(loop_->in_loop_thread());
  if (!active_[p]) return;
  active_[p] = 0;
  lane_here_[p] = kNoLane;
  active_list_.erase(std::find(active_list_.begin(), active_list_.end(), p));
}

// ---- ingress ----------------------------------------------------------------------------------

void Forwarder::ingress(PortIndex in, uint8_t lane, std::span<const port::Frame> frames) noexcept {
  // A port attached with the wrong thread index would run this on a foreign thread and race on
  // every per-thread structure; catch it in debug builds.
  assert(loop_->in_loop_thread());
  if (in >= active_.size() || !active_[in] || lane_here_[in] != lane) {
    counters_.drop_inactive.add();
    return;
  }
  if (depth_ == kMaxDepth) {
    counters_.drop_reentry.add();
    return;
  }
  PortLane& src = ports_[in].lanes[lane];
  // Captured as the port delivered them (VLAN tags included), before any filtering.
  if (src.taps.n_in) [[unlikely]] tap_burst(src.taps.in, src.taps.n_in, frames);
  Scratch& s = *scratch_[depth_++];
  while (!frames.empty()) {
    const size_t n = std::min(frames.size(), port::kMaxBurst);
    ingress_chunk(in, src, frames.first(n), s);
    frames = frames.subspan(n);
  }
  --depth_;
}

void Forwarder::enqueue(Scratch& s, PortIndex out, size_t i) noexcept {
  uint8_t& cnt = s.out_count[out];
  if (cnt == 0) s.touched.push_back(out);  // capacity reserved: no allocation
  s.out_frames[out][cnt++] = uint8_t(i);
}

void Forwarder::flood(Scratch& s, size_t i, PortIndex in, uint16_t vid) noexcept {
  counters_.flooded.add();
  for (PortIndex p : active_list_) {
    if (p != in && ports_[p].vlan.member(vid)) enqueue(s, p, i);
  }
}

void Forwarder::ingress_chunk(PortIndex in, PortLane& src, std::span<const port::Frame> frames,
                              Scratch& s) noexcept {
  const PortVlan& src_vlan = ports_[in].vlan;
  counters_.bursts.add();
  const int64_t now = ev::now_ns();
  s.iov_used = 0;
  s.touched.clear();
  uint64_t bytes = 0;
  // Consecutive frames from one sender are the common case: learn it once per run.
  uint16_t last_vid = 0;
  const uint8_t* last_src = nullptr;
  Counter* src_drop = nullptr;  // why the current source's frames drop; null: they pass
  // Likewise consecutive frames to one unicast destination: look it up once per run.
  uint16_t last_dst_vid = 0;
  const uint8_t* last_dst = nullptr;
  PortIndex last_out = kNoPort;

  // Each frame sits in a buffer the sending guest just wrote on another core. Ask for the lines
  // of every frame's start now, so the burst's cache misses overlap instead of being paid one at
  // a time in copy_out below and in the destination port's copy. Two lines: a small frame behind
  // the 12-byte virtio-net header straddles a line boundary (perf showed the copy stalling on
  // the second one); longer frames are left to the hardware's sequential prefetcher.
  for (const port::Frame& f : frames) {
    if (f.iovcnt == 0) continue;
    const auto* base = static_cast<const uint8_t*>(f.iov[0].iov_base);
    const size_t head = std::min<size_t>(f.iov[0].iov_len, 128);
    __builtin_prefetch(base);
    if (head > 1) __builtin_prefetch(base + head - 1);
  }

  for (size_t i = 0; i < frames.size(); ++i) {
    const port::Frame& f = frames[i];
    bytes += f.len;
    if (!f.ol.plain()) [[unlikely]] {
      if (f.ol.gso != port::Offload::Gso::kNone) src.counters.in_gso.add();
      if (f.ol.needs_csum()) src.counters.in_csum.add();
    }
    s.have_view[i][0] = s.have_view[i][1] = false;
    if (f.len < kEthHdrLen) {
      src.counters.drop_runt.add();
      continue;
    }
    f.copy_out(0, s.hdr[i], kVlanHdrLen);
    const IngressClass c = src_vlan.classify(s.hdr[i], f.len);
    if (c.verdict != VlanVerdict::kAccept) {
      (c.verdict == VlanVerdict::kRunt ? src.counters.drop_runt : src.counters.drop_vlan).add();
      continue;
    }
    s.cls[i] = c;
    const uint8_t* dst_mac = s.hdr[i];
    const uint8_t* src_mac = s.hdr[i] + kMacLen;
    if (!last_src || last_vid != c.vid || std::memcmp(last_src, src_mac, kMacLen) != 0) {
      src_drop = admit_source(src, in, c.vid, src_mac, now);
      last_src = src_mac;
      last_vid = c.vid;
      last_dst = nullptr;  // the table may have changed: look the next destination up again
    }
    if (src_drop) [[unlikely]] {
      src_drop->add();
      continue;
    }
    if (is_group_mac(dst_mac)) {
      if (!src.guard.bum.admit(now)) [[unlikely]] {
        src.counters.drop_bum_rate.add();
        continue;
      }
      flood(s, i, in, c.vid);
      continue;
    }
    PortIndex out;
    if (last_dst && last_dst_vid == c.vid && std::memcmp(last_dst, dst_mac, kMacLen) == 0) {
      out = last_out;
    } else {
      out = fdb_.lookup(c.vid, dst_mac);
      last_dst = dst_mac;
      last_dst_vid = c.vid;
      last_out = out;
    }
    if (out == in) {
      // The destination sits behind the port the frame came from (802.1Q 8.6.3): not forwarded.
      src.counters.drop_filtered.add();
      continue;
    }
    if (out >= active_.size() || !active_[out] || !ports_[out].vlan.member(c.vid)) {
      // Unknown (or a stale entry of a port being removed): flooded, so storm control counts it.
      if (!src.guard.bum.admit(now)) [[unlikely]] {
        src.counters.drop_bum_rate.add();
        continue;
      }
      flood(s, i, in, c.vid);
      continue;
    }
    enqueue(s, out, i);
  }
  src.counters.in_frames.add(frames.size());
  src.counters.in_bytes.add(bytes);

  for (PortIndex p : s.touched) {
    deliver(s, frames, p);
    s.out_count[p] = 0;
  }
  // One publish and one wake-up per destination thread per burst.
  for (unsigned t : s.dirty_threads) {
    s.ring_dirty[t] = 0;
    peers_[t]->inbox(thread_).publish();
    peers_[t]->drain_bh_->schedule();
  }
  s.dirty_threads.clear();
}

Counter* Forwarder::admit_source(PortLane& src, PortIndex in, uint16_t vid, const uint8_t* mac,
                                 int64_t now) noexcept {
  const PortGuard& g = src.guard;
  if (g.checks_source()) [[unlikely]] {
    if (g.lock_mac && std::memcmp(mac, g.allowed_mac.data(), kMacLen) != 0) {
      return &src.counters.drop_allowed_mac;
    }
    // No station sends from a group or all-zero address (IEEE 802-2014 8.2), and the FDB cannot
    // count such a source against the port's limit.
    if (g.max_macs && (is_group_mac(mac) || is_zero_mac(mac))) return &src.counters.drop_max_macs;
  }
  switch (fdb_.learn(vid, mac, in, now, g.max_macs)) {
    case LearnResult::kLimited:
      return &src.counters.drop_max_macs;
    case LearnResult::kFull:
      // Not learned and not evicting anyone: the frame still goes out, and the entries already
      // learned keep forwarding.
      src.counters.fdb_full.add();
      break;
    default:
      break;
  }
  return nullptr;
}

const port::Frame* Forwarder::view(Scratch& s, const port::Frame& f, size_t i,
                                   EgressForm form) noexcept {
  const size_t k = form == EgressForm::kTagged ? 1 : 0;
  if (s.have_view[i][k]) return &s.view[i][k];
  const int used = make_egress_view(f, s.hdr[i], s.cls[i], form, &s.view_hdr[i][k],
                                    s.iov.data() + s.iov_used, s.iov.size() - s.iov_used,
                                    &s.view[i][k]);
  if (used < 0) return nullptr;
  s.iov_used += size_t(used);
  s.have_view[i][k] = true;
  return &s.view[i][k];
}

void Forwarder::deliver(Scratch& s, std::span<const port::Frame> frames, PortIndex p) noexcept {
  PortSlot& d = ports_[p];
  size_t n = 0;
  const bool access = d.vlan.mode() == VlanMode::kAccess;
  for (uint8_t j = 0; j < s.out_count[p]; ++j) {
    const size_t i = s.out_frames[p][j];
    // The common case, an untagged frame leaving an access port, leaves unchanged (what
    // make_egress_view would conclude): skip the per-frame form and view calls.
    if (access && s.cls[i].tag == WireTag::kNone) {
      s.send[n++] = frames[i];
      continue;
    }
    // Membership was checked when the frame was queued for p, so the form exists.
    const EgressForm form = d.vlan.egress_form(s.cls[i].vid).value_or(EgressForm::kUntagged);
    const port::Frame* v = view(s, frames[i], i, form);
    if (!v) {
      counters_.drop_no_scratch.add();
      continue;
    }
    s.send[n++] = *v;
  }
  if (n == 0) return;
  const uint8_t here = lane_here_[p];
  if (here != kNoLane) {
    // The lane on the sending thread takes every flow: no hop, and one path per flow.
    send_local(d.lanes[here], {s.send, n});
    return;
  }
  if (d.nlanes == 1) {
    for (size_t j = 0; j < n; ++j) push_remote(s, s.send[j], p, d.gen, d.lanes[0].thread);
    return;
  }
  for (size_t j = 0; j < n; ++j) {
    const unsigned lane = port::flow_hash(s.send[j]) % d.nlanes;
    push_remote(s, s.send[j], p, d.gen, d.lanes[lane].thread);
  }
}

void Forwarder::push_remote(Scratch& s, const port::Frame& f, PortIndex p, uint32_t gen,
                            unsigned thread) noexcept {
  switch (peers_[thread]->inbox(thread_).push(f, p, gen)) {
    case FrameRing::PushResult::kOk:
      break;
    case FrameRing::PushResult::kFull:
      counters_.drop_ring_full.add();
      return;
    case FrameRing::PushResult::kTooBig:
      counters_.drop_too_big.add();
      return;
  }
  counters_.ring_out.add();
  if (!s.ring_dirty[thread]) {
    s.ring_dirty[thread] = 1;
    s.dirty_threads.push_back(thread);  // capacity reserved: no allocation
  }
}

void Forwarder::send_local(PortLane& d, std::span<const port::Frame> frames) noexcept {
  const port::PortState st = d.port->state();
  if (st != port::PortState::kUp) {
    (st == port::PortState::kBroken ? d.counters.drop_broken : d.counters.drop_port_down)
        .add(frames.size());
    return;
  }
  // Offloaded frames the port cannot take are converted here, on the destination's thread,
  // where its capabilities are current; runs of frames it takes as they are go out unchanged.
  const uint32_t caps = d.port->offload_caps();
  size_t i = 0;
  while (i < frames.size()) {
    size_t j = i;
    while (j < frames.size() && (frames[j].ol.plain() || offload_fits(frames[j].ol, caps))) ++j;
    if (j > i) {
      const size_t sent = send_to_port(d, frames.subspan(i, j - i));
      if (sent < j - i) {
        d.counters.drop_no_buffers.add(frames.size() - i - sent);
        return;
      }
    }
    if (j == frames.size()) return;
    if (!send_fallback(d, frames[j], caps)) {
      d.counters.drop_no_buffers.add(frames.size() - j - 1);
      return;
    }
    i = j + 1;
  }
}

bool Forwarder::send_fallback(PortLane& d, const port::Frame& f, uint32_t caps) noexcept {
  if (fallback_depth_ == std::size(fallback_)) {
    counters_.drop_reentry.add();
    return true;
  }
  OffloadFallback& fb = *fallback_[fallback_depth_++];
  bool ok = true;
  const port::OffloadError e = fb.start(f, caps);
  if (e != port::OffloadError::kNone) {
    d.counters.drop_offload[size_t(e)].add();
  } else {
    const bool seg = fb.segmenting();
    (seg ? d.counters.sw_segmented : d.counters.sw_csum).add();
    for (auto out = fb.next(); !out.empty(); out = fb.next()) {
      if (seg) d.counters.sw_segments.add(out.size());
      const size_t sent = send_to_port(d, out);
      if (sent < out.size()) {
        // The rest of this frame's segments are lost with the one the port refused.
        d.counters.drop_no_buffers.add(out.size() - sent);
        ok = false;
        break;
      }
    }
  }
  --fallback_depth_;
  return ok;
}

size_t Forwarder::send_to_port(PortLane& d, std::span<const port::Frame> frames) noexcept {
  size_t sent;
  if (d.taps.n_out) [[unlikely]] {
    // What the port took, in the form it took it (tagged on a trunk, segmented for a port
    // without offloads), ordered before anything the port answers from inside send_burst.
    EgressTap tap(d.taps, frames);
    sent = std::min(d.port->send_burst(frames), frames.size());
    tap.settle(sent);
  } else {
    sent = std::min(d.port->send_burst(frames), frames.size());
  }
  uint64_t bytes = 0;
  for (size_t j = 0; j < sent; ++j) {
    const port::Frame& f = frames[j];
    bytes += f.len;
    if (!f.ol.plain()) [[unlikely]] {
      if (f.ol.gso != port::Offload::Gso::kNone) d.counters.out_gso.add();
      if (f.ol.needs_csum()) d.counters.out_csum.add();
    }
  }
  d.counters.out_frames.add(sent);
  d.counters.out_bytes.add(bytes);
  return sent;
}

// ---- cross-thread drain -----------------------------------------------------------------------

void Forwarder::drain() noexcept {
  bool more = false;
  for (unsigned t : sources_) {
    FrameRing& ring = *inbox_[t];
    size_t done = 0;
    while (done < kDrainBudget) {
      const FrameRing::Run run = ring.peek_run(drain_frames_, drain_iov_);
      if (run.frames == 0) break;
      counters_.ring_in.add(run.frames);
      // The generation check drops frames queued for a port that was removed (and maybe its
      // slot reused) while they sat in the ring.
      if (run.port < active_.size() && active_[run.port] && ports_[run.port].gen == run.gen &&
          lane_here_[run.port] != kNoLane) {
        send_local(ports_[run.port].lanes[lane_here_[run.port]], {drain_frames_, run.frames});
      } else {
        counters_.drop_stale.add(run.frames);
      }
      ring.release(run.slots);
      done += run.frames;
    }
    if (done >= kDrainBudget) more = true;
  }
  // Leave the rest for the next loop iteration so other handlers on this thread get a turn.
  if (more) drain_bh_->schedule();
}

}  // namespace uvs::bridge
