// SPDX-License-Identifier: MIT
// PortSlot: one attached port as the forwarding threads see it (its lanes, one per thread it
// runs on), and PortSink, a lane's FrameSink.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "port/port.h"
#include "switch/capture_taps.h"
#include "switch/fdb.h"
#include "switch/port_guard.h"
#include "switch/switch_stats.h"
#include "switch/vlan.h"

namespace uvs::bridge {

class Forwarder;

/// Most lanes (threads) one port can be spread over.
inline constexpr size_t kMaxLanes = 64;
/// Forwarder::lane_here value for a port with no lane on that thread.
inline constexpr uint8_t kNoLane = 0xff;

/// The FrameSink the bridge gives a port lane: it tags the burst with the port's index and lane
/// and hands it to the forwarder of the lane's thread.
class PortSink final : public port::FrameSink {
 public:
  /// Points the sink at `fwd` for lane `lane` of port `index`. Control path, before the port
  /// gets the sink.
  void bind(Forwarder* fwd, PortIndex index, uint8_t lane = 0) noexcept {
    fwd_ = fwd;
    index_ = index;
    lane_ = lane;
  }
  /// Forwards the burst (Forwarder::ingress). The port's loop thread; never blocks.
  void receive_burst(port::Port& from, std::span<const port::Frame> frames) noexcept override;

 private:
  Forwarder* fwd_ = nullptr;
  PortIndex index_ = kNoPort;
  uint8_t lane_ = 0;
};

/// One thread's share of a port: the Port object that runs there (a vhost-user device's queue
/// pairs on that thread, or the whole port when it has one lane) and what that thread alone
/// writes. Frames of one flow always take the same lane (Forwarder::deliver), so spreading a
/// port over threads keeps each flow in order.
struct PortLane {
  port::Port* port = nullptr;
  unsigned thread = 0;
  PortSink sink;
  PortCounters counters;  ///< summed over lanes in the port's stats
  CaptureTaps taps;
  PortGuard guard;  ///< the port's settings; its storm-control bucket is this lane's share
};

/// One entry of the bridge's port table.
///
/// Ownership rule that makes the plain fields safe without atomics: the control thread writes
/// `lanes` (ports, threads, sinks), `vlan`, `name` and `gen` only while no forwarding thread has
/// the slot active; it then activates the slot on every forwarding thread through
/// run_in_loop_sync (whose hand-off is the happens-before edge), and deactivates it the same way
/// before touching the fields again. Forwarding threads read them only while the slot is active
/// for them. A lane's `counters` are written only by the lane's own thread (see PortCounters),
/// and so are its `taps` (the bridge edits them through run_in_loop_sync on that thread) and its
/// `guard`'s bucket.
struct PortSlot {
  std::unique_ptr<PortLane[]> lanes;
  uint8_t nlanes = 0;
  PortVlan vlan;
  std::string name;
  uint32_t gen = 0;     ///< bumped on every attach, so ring frames for a removed port are dropped
  bool used = false;    ///< control thread's bookkeeping only
};

}  // namespace uvs::bridge
