// SPDX-License-Identifier: MIT
// Bridge: attaching and detaching ports across forwarding threads, the aging sweep, stats, dumps.
#include "switch/bridge.h"

#include <algorithm>
#include <cassert>

#include "eventloop/clock.h"

namespace uvs::bridge {

Bridge::Bridge(std::span<ev::EventLoop* const> loops, const BridgeOptions& options)
    : loops_(loops.begin(), loops.end()),
      opts_(options),
      ports_(std::make_unique<PortSlot[]>(std::clamp<size_t>(options.max_ports, 1, kNoPort))),
      fdb_(options.fdb_capacity, std::clamp<size_t>(options.max_ports, 1, kNoPort)) {
  assert(!loops_.empty());
  const size_t n = loops_.size();
  ring_slots_ = n <= BridgeOptions::kFullRingThreads
                    ? opts_.ring_slots
                    : std::max(BridgeOptions::kMinRingSlots,
                               opts_.ring_slots * BridgeOptions::kFullRingThreads / (n - 1));
  ring_made_.assign(n * n, false);
  opts_.max_ports = std::clamp<size_t>(options.max_ports, 1, kNoPort);
  fdb_.set_aging_ns(options.aging_ns);
  std::span<PortSlot> table(ports_.get(), opts_.max_ports);
  for (unsigned t = 0; t < loops_.size(); ++t) {
    fwd_.push_back(
        std::make_unique<Forwarder>(t, *loops_[t], table, fdb_, loops_.size()));
  }
  std::vector<Forwarder*> peers;
  for (auto& f : fwd_) peers.push_back(f.get());
  for (auto& f : fwd_) f->set_peers(peers);
  thread_ports_.assign(loops_.size(), 0);

  aging_timer_ = std::make_unique<ev::Timer>(*loops_[0],
                                             ev::Callback::bind<&Bridge::on_aging_timer>(this));
  run_on(0, [this] { aging_timer_->arm_in(sweep_interval_ns()); });
}

Bridge::~Bridge() {
  for (size_t i = 0; i < opts_.max_ports; ++i) {
    if (ports_[i].used) remove_port(PortIndex(i));
  }
  // No port feeds any forwarder now, so nothing schedules the drain bottom halves any more.
  run_on(0, [this] { aging_timer_.reset(); });
  for (unsigned t = 0; t < fwd_.size(); ++t) run_on(t, [&] { fwd_[t]->shutdown(); });
}

void Bridge::run_on(unsigned t, const std::function<void()>& fn) {
  ev::EventLoop& loop = *loops_[t];
  if (loop.in_loop_thread()) {
    fn();  // not running yet (start-up) or already on it
  } else {
    loop.run_in_loop_sync(fn);
  }
}

void Bridge::make_rings(unsigned thread) {
  const size_t n = loops_.size();
  for (unsigned t = 0; t < n; ++t) {
    if (t == thread || thread_ports_[t] == 0) continue;
    for (auto [src, dst] : {std::pair{t, thread}, std::pair{thread, t}}) {
      if (ring_made_[src * n + dst]) continue;
      auto ring = std::make_unique<FrameRing>(ring_slots_);
      // Installed on the consumer's thread, so its drain never races the change; the port
      // activations that follow order it before the producer's first push.
      run_on(dst, [&] { fwd_[dst]->install_inbox(src, std::move(ring)); });
      ring_made_[src * n + dst] = true;
    }
  }
}

int64_t Bridge::sweep_interval_ns() const {
  const int64_t aging = fdb_.aging_ns();
  if (aging <= 0) return 1'000'000'000;  // aging off: just look again later
  // An entry lives between aging and aging + interval; 1/8 keeps that within 12.5%.
  return std::clamp<int64_t>(aging / 8, 1'000'000, 10'000'000'000);
}

void Bridge::on_aging_timer() {
  fdb_.age(ev::now_ns());
  aging_timer_->arm_in(sweep_interval_ns());
}

void Bridge::set_aging_ns(int64_t ns) {
  fdb_.set_aging_ns(ns);
  run_on(0, [this] { aging_timer_->arm_in(sweep_interval_ns()); });
}

unsigned Bridge::pick_thread() const {
  return pick_threads(1)[0];
}

std::vector<unsigned> Bridge::pick_threads(size_t n) const {
  std::vector<unsigned> order(loops_.size());
  for (unsigned t = 0; t < order.size(); ++t) order[t] = t;
  {
    std::lock_guard<std::mutex> lk(control_mu_);
    // Stable: among threads with as many lanes, the lower index comes first.
    std::stable_sort(order.begin(), order.end(),
                     [&](unsigned a, unsigned b) { return thread_ports_[a] < thread_ports_[b]; });
  }
  order.resize(std::clamp<size_t>(n, 1, order.size()));
  return order;
}

std::optional<PortIndex> Bridge::find_port(std::string_view name) const {
  std::lock_guard<std::mutex> lk(control_mu_);
  for (size_t i = 0; i < opts_.max_ports; ++i) {
    if (ports_[i].used && ports_[i].name == name) return PortIndex(i);
  }
  return std::nullopt;
}

Result<PortIndex> Bridge::add_port(port::Port& port, const PortOptions& opts) {
  unsigned thread;
  {
    std::lock_guard<std::mutex> lk(control_mu_);
    thread = opts.thread ? *opts.thread
                         : unsigned(std::min_element(thread_ports_.begin(), thread_ports_.end()) -
                                    thread_ports_.begin());
  }
  const PortLaneSpec lane{&port, thread};
  return add_port(std::span<const PortLaneSpec>(&lane, 1), opts);
}

Result<PortIndex> Bridge::add_port(std::span<const PortLaneSpec> lanes, const PortOptions& opts) {
  std::lock_guard<std::mutex> lk(control_mu_);
  if (lanes.empty() || lanes.size() > kMaxLanes) {
    return Error{BridgeError::kBadLanes, "port " + opts.name + ": " +
                                             std::to_string(lanes.size()) + " lanes (1.." +
                                             std::to_string(kMaxLanes) + ")"};
  }
  std::string name = opts.name.empty() ? std::string(lanes[0].port->name()) : opts.name;
  for (size_t l = 0; l < lanes.size(); ++l) {
    const unsigned thread = lanes[l].thread;
    if (thread >= loops_.size()) {
      return Error{BridgeError::kBadThread, "port " + name + ": thread " +
                                                std::to_string(thread) +
                                                " does not exist (there are " +
                                                std::to_string(loops_.size()) + ")"};
    }
    for (size_t k = 0; k < l; ++k) {
      if (lanes[k].thread == thread) {
        return Error{BridgeError::kBadLanes, "port " + name + ": two lanes on thread " +
                                                 std::to_string(thread)};
      }
    }
  }
  std::string vlan_error;
  std::optional<PortVlan> vlan = PortVlan::make(opts.vlan, &vlan_error);
  if (!vlan) return Error{BridgeError::kBadVlan, "port " + name + ": " + vlan_error};
  size_t free_slot = opts_.max_ports;
  for (size_t i = 0; i < opts_.max_ports; ++i) {
    const PortSlot& s = ports_[i];
    if (!s.used) {
      free_slot = std::min(free_slot, i);
      continue;
    }
    for (uint8_t l = 0; l < s.nlanes; ++l) {
      for (const PortLaneSpec& lane : lanes) {
        if (s.lanes[l].port == lane.port) {
          return Error{BridgeError::kAlreadyAttached, "port " + name + " is attached already"};
        }
      }
    }
    if (s.name == name) {
      return Error{BridgeError::kDuplicateName, "a port named " + name + " is attached already"};
    }
  }
  if (free_slot == opts_.max_ports) {
    return Error{BridgeError::kTooManyPorts, "port " + name + ": all " +
                                                 std::to_string(opts_.max_ports) +
                                                 " port slots are in use"};
  }

  // The slot is inactive on every thread, so these plain writes race with nothing; the
  // run_in_loop_sync hand-offs below publish them to the forwarding threads.
  const PortIndex idx = PortIndex(free_slot);
  PortSlot& slot = ports_[idx];
  slot.nlanes = uint8_t(lanes.size());
  slot.lanes = std::make_unique<PortLane[]>(lanes.size());
  slot.vlan = *vlan;
  slot.name = std::move(name);
  ++slot.gen;
  slot.used = true;
  // Storm control is per port: each lane's bucket gets its share (at least one frame a second).
  PortSecurityOptions lane_security = opts.security;
  if (lane_security.bum_rate) {
    lane_security.bum_rate =
        std::max<uint32_t>(1, uint32_t(lane_security.bum_rate / lanes.size()));
  }
  for (uint8_t l = 0; l < slot.nlanes; ++l) {
    PortLane& lane = slot.lanes[l];
    lane.port = lanes[l].port;
    lane.thread = lanes[l].thread;
    lane.guard.configure(lane_security);
    lane.sink.bind(fwd_[lane.thread].get(), idx, l);
    make_rings(lane.thread);
    ++thread_ports_[lane.thread];
  }

  // Destinations first, so the port's first burst can already reach every thread.
  auto has_lane = [&](unsigned t) {
    return std::any_of(lanes.begin(), lanes.end(), [&](const auto& l) { return l.thread == t; });
  };
  for (unsigned t = 0; t < loops_.size(); ++t) {
    if (!has_lane(t)) run_on(t, [&] { fwd_[t]->activate(idx); });
  }
  for (unsigned t = 0; t < loops_.size(); ++t) {
    if (has_lane(t)) run_on(t, [&] { fwd_[t]->activate(idx); });
  }
  for (uint8_t l = 0; l < slot.nlanes; ++l) {
    PortLane& lane = slot.lanes[l];
    run_on(lane.thread, [&] { lane.port->set_sink(&lane.sink); });
  }
  return idx;
}

bool Bridge::remove_port(PortIndex index) {
  std::lock_guard<std::mutex> lk(control_mu_);
  if (index >= opts_.max_ports || !ports_[index].used) return false;
  PortSlot& slot = ports_[index];
  // On its lanes' threads first: no new bursts from it, and no more sends to it from there
  // (ring frames for it are dropped by the drain from now on).
  std::vector<bool> done(loops_.size(), false);
  for (uint8_t l = 0; l < slot.nlanes; ++l) {
    PortLane& lane = slot.lanes[l];
    run_on(lane.thread, [&] {
      lane.port->set_sink(nullptr);
      fwd_[lane.thread]->deactivate(index);
      lane.taps.for_each([](Capture* c) { c->mark_port_gone(); });
      lane.taps.clear();
    });
    done[lane.thread] = true;
  }
  // Then every other thread: each one finishes the burst it is in (which may still have queued
  // frames toward the port) before running this, and never looks at the slot afterwards.
  for (unsigned t = 0; t < loops_.size(); ++t) {
    if (!done[t]) run_on(t, [&] { fwd_[t]->deactivate(index); });
  }
  // Nobody can learn on this index any more (its bursts are refused), so the flush is final.
  fdb_.flush_port(index);
  std::erase_if(captures_, [&](const auto& e) { return e.second == index; });
  for (uint8_t l = 0; l < slot.nlanes; ++l) --thread_ports_[slot.lanes[l].thread];
  slot.lanes.reset();
  slot.nlanes = 0;
  slot.used = false;
  return true;
}

Result<PortIndex> Bridge::attach_capture(std::string_view port, Capture& capture) {
  std::lock_guard<std::mutex> lk(control_mu_);
  for (size_t i = 0; i < opts_.max_ports; ++i) {
    PortSlot& slot = ports_[i];
    if (!slot.used || slot.name != port) continue;
    if (slot.nlanes != 1) {
      return Error{BridgeError::kNotSupported,
                   "port " + std::string(port) + " runs on " + std::to_string(slot.nlanes) +
                       " threads; captures need a port on one thread"};
    }
    PortLane& lane = slot.lanes[0];
    bool added = false;
    if (std::any_of(captures_.begin(), captures_.end(),
                    [&](const auto& e) { return e.first == &capture; })) {
      return Error{BridgeError::kAlreadyAttached, "this capture is attached already"};
    }
    run_on(lane.thread, [&] { added = lane.taps.add(&capture); });
    if (!added) {
      return Error{BridgeError::kTooManyCaptures,
                   "port " + std::string(port) + " has " + std::to_string(CaptureTaps::kMax) +
                       " captures already"};
    }
    captures_.emplace_back(&capture, PortIndex(i));
    return PortIndex(i);
  }
  return Error{BridgeError::kNoSuchPort, "no port named " + std::string(port)};
}

bool Bridge::detach_capture(Capture& capture) {
  std::lock_guard<std::mutex> lk(control_mu_);
  auto it = std::find_if(captures_.begin(), captures_.end(),
                         [&](const auto& e) { return e.first == &capture; });
  if (it == captures_.end()) return false;
  PortSlot& slot = ports_[it->second];
  captures_.erase(it);
  run_on(slot.lanes[0].thread, [&] { slot.lanes[0].taps.remove(&capture); });
  return true;
}

BridgeStats Bridge::stats() const {
  std::lock_guard<std::mutex> lk(control_mu_);
  BridgeStats out;
  for (size_t i = 0; i < opts_.max_ports; ++i) {
    const PortSlot& s = ports_[i];
    if (!s.used) continue;
    PortStats p;
    p.index = PortIndex(i);
    p.name = s.name;
    p.thread = s.lanes[0].thread;
    for (uint8_t l = 0; l < s.nlanes; ++l) {
      const PortCounters& c = s.lanes[l].counters;
      p.lane_threads.push_back(s.lanes[l].thread);
      p.in_frames += c.in_frames.get();
      p.in_bytes += c.in_bytes.get();
      p.out_frames += c.out_frames.get();
      p.out_bytes += c.out_bytes.get();
      p.drop_runt += c.drop_runt.get();
      p.drop_vlan += c.drop_vlan.get();
      p.drop_filtered += c.drop_filtered.get();
      p.drop_no_buffers += c.drop_no_buffers.get();
      p.drop_port_down += c.drop_port_down.get();
      p.drop_broken += c.drop_broken.get();
      p.drop_max_macs += c.drop_max_macs.get();
      p.drop_allowed_mac += c.drop_allowed_mac.get();
      p.drop_bum_rate += c.drop_bum_rate.get();
      p.fdb_full += c.fdb_full.get();
      p.in_csum += c.in_csum.get();
      p.in_gso += c.in_gso.get();
      p.out_csum += c.out_csum.get();
      p.out_gso += c.out_gso.get();
      p.sw_segmented += c.sw_segmented.get();
      p.sw_segments += c.sw_segments.get();
      p.sw_csum += c.sw_csum.get();
      for (size_t k = 0; k < port::kOffloadErrorCount; ++k) {
        p.drop_offload[k] += c.drop_offload[k].get();
      }
    }
    out.ports.push_back(std::move(p));
  }
  for (const auto& f : fwd_) {
    const ThreadCounters& c = f->counters();
    ThreadStats t;
    t.thread = f->thread();
    t.bursts = c.bursts.get();
    t.flooded = c.flooded.get();
    t.ring_out = c.ring_out.get();
    t.ring_in = c.ring_in.get();
    t.drop_ring_full = c.drop_ring_full.get();
    t.drop_too_big = c.drop_too_big.get();
    t.drop_stale = c.drop_stale.get();
    t.drop_inactive = c.drop_inactive.get();
    t.drop_reentry = c.drop_reentry.get();
    t.drop_no_scratch = c.drop_no_scratch.get();
    out.threads.push_back(t);
  }
  out.fdb = fdb_.stats();
  return out;
}

std::vector<FdbRecord> Bridge::fdb_dump() const { return fdb_.snapshot(); }
size_t Bridge::flush_fdb() { return fdb_.flush_all(); }
size_t Bridge::flush_fdb_port(PortIndex index) { return fdb_.flush_port(index); }
size_t Bridge::flush_fdb_vlan(uint16_t vlan) { return fdb_.flush_vlan(vlan); }

}  // namespace uvs::bridge
