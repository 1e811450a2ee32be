// SPDX-License-Identifier: MIT
// PortSlot: one attached port as the forwarding threads see it, and PortSink, its FrameSink.
#pragma once

#include <cstdint>
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

/// The FrameSink the bridge gives a port: it tags the burst with the port's index and hands it
/// to the forwarder of the port's thread.
class PortSink final : public port::FrameSink {
 public:
  /// Points the sink at `fwd` for port `index`. Control path, before the port gets the sink.
  void bind(Forwarder* fwd, PortIndex index) noexcept {
    fwd_ = fwd;
    index_ = index;
  }
  /// Forwards the burst (Forwarder::ingress). The port's loop thread; never blocks.
  void receive_burst(port::Port& from, std::span<const port::Frame> frames) noexcept override;

 private:
  Forwarder* fwd_ = nullptr;
  PortIndex index_ = kNoPort;
};

/// One entry of the bridge's port table.
///
/// Ownership rule that makes the plain fields safe without atomics: the control thread writes
/// `port`, `thread`, `vlan`, `name`, `gen` and the sink only while no forwarding thread has the
/// slot active; it then activates the slot on every forwarding thread through run_in_loop_sync
/// (whose hand-off is the happens-before edge), and deactivates it the same way before touching
/// the fields again. Forwarding threads read them only while the slot is active for them.
/// `counters` are written only by the port's own thread (see PortCounters), and so are `taps`
/// (the bridge edits them through run_in_loop_sync on that thread) and `guard`'s bucket.
struct PortSlot {
  port::Port* port = nullptr;
  unsigned thread = 0;  ///< forwarding thread (loop) the port lives on
  PortVlan vlan;
  PortGuard guard;      ///< port security, applied on ingress
  std::string name;
  uint32_t gen = 0;     ///< bumped on every attach, so ring frames for a removed port are dropped
  bool used = false;    ///< control thread's bookkeeping only
  PortSink sink;
  PortCounters counters;
  CaptureTaps taps;
};

}  // namespace uvs::bridge
