// SPDX-License-Identifier: MIT
// Port and FrameSink: the two calls that move bursts of frames between a port and the switch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "port/frame.h"

namespace uvs::port {

class Port;

/// Where a port delivers the frames it receives from its peer (the switch, or a test).
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  /// Takes a burst that arrived on `from`. Runs on `from`'s loop thread. The frames' segments are
  /// valid only during the call (see Frame). Never blocks, never throws.
  virtual void receive_burst(Port& from, std::span<const Frame> frames) noexcept = 0;
};

/// Why a port is not forwarding; kBroken means its peer misbehaved and the port stopped itself.
enum class PortState { kDown, kUp, kBroken };

/// A thing frames can be sent to and arrive from: a vhost-user device, a tap, a socket, the NAT.
/// Every call happens on the loop thread the port was attached to.
class Port {
 public:
  virtual ~Port() = default;

  /// Copies out as many of `frames` as the peer can take now (e.g. guest RX buffers available)
  /// and returns how many it took, in order; the caller counts the rest as dropped. One used-ring
  /// update and at most one peer notification per call. Never blocks, never throws.
  virtual size_t send_burst(std::span<const Frame> frames) noexcept = 0;

  /// Sets where received frames go; nullptr drops them. Loop thread only.
  virtual void set_sink(FrameSink* sink) noexcept = 0;

  virtual std::string_view name() const noexcept = 0;
  virtual PortState state() const noexcept = 0;

  /// OffloadCap bits: which offloaded frames (Frame::ol) the peer takes as they are. The switch
  /// segments or checksums anything else before send_burst, so a port that returns 0 only ever
  /// gets plain frames. May change when the peer renegotiates. Loop thread only.
  virtual uint32_t offload_caps() const noexcept { return 0; }
};

}  // namespace uvs::port
