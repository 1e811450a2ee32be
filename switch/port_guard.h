// SPDX-License-Identifier: MIT
// PortGuard: one port's ingress policy — source MAC lock, source MAC limit, broadcast storm control.
#pragma once

#include <cstdint>
#include <optional>

#include "switch/eth.h"

namespace uvs::bridge {

/// Port security settings, as OVS's port security and libvirt's clean-traffic filter offer
/// them. Zero / absent means no limit.
struct PortSecurityOptions {
  uint32_t max_macs = 0;              ///< source MACs the FDB may hold for the port
  std::optional<MacAddr> allowed_mac; ///< the only source MAC accepted from the port
  uint32_t bum_rate = 0;              ///< broadcast/multicast/unknown-unicast frames per second
};

/// Storm control: a token bucket of frames per second. Refilled from the elapsed time on every
/// call, so it needs no timer; integer arithmetic in token-nanoseconds, no division per frame.
///
/// Threading: one thread (the port's forwarding thread); no locks, no allocation.
class TokenBucket {
 public:
  static constexpr int64_t kNsPerSec = 1'000'000'000;
  /// Smallest bucket depth in frames: a port limited to a few frames per second still gets an
  /// ARP exchange or a DHCP handshake through at once.
  static constexpr uint64_t kMinDepth = 16;

  /// Sets the rate (frames per second, 0: unlimited) and fills the bucket. The depth is a tenth
  /// of a second's worth of frames, at least kMinDepth. Control path, while no frame passes.
  void configure(uint32_t per_second) noexcept;

  /// Takes one token if there is one at time `now_ns` (a monotonic clock); false means the frame
  /// is over the rate. Always true when unlimited. Owning thread only; never blocks.
  bool admit(int64_t now_ns) noexcept {
    if (rate_ == 0) return true;
    refill(now_ns);
    if (credit_ < uint64_t(kNsPerSec)) return false;
    credit_ -= uint64_t(kNsPerSec);
    return true;
  }

  uint32_t rate() const noexcept { return rate_; }

 private:
  void refill(int64_t now_ns) noexcept;

  uint32_t rate_ = 0;
  uint64_t depth_ = 0;   ///< in token-ns (frames * kNsPerSec)
  uint64_t credit_ = 0;  ///< in token-ns
  int64_t last_ns_ = 0;
};

/// A port's guard as its forwarding thread applies it on ingress. The settings are written by
/// the control thread while the port's slot is inactive (PortSlot's rule); the bucket is then
/// the port thread's alone.
struct PortGuard {
  uint32_t max_macs = 0;
  bool lock_mac = false;
  MacAddr allowed_mac{};
  TokenBucket bum;

  /// Applies `o` and refills the bucket. Control path, while the slot is inactive.
  void configure(const PortSecurityOptions& o) noexcept;
  /// Whether any source rule is set (the forwarder's fast path skips them otherwise).
  bool checks_source() const noexcept { return lock_mac || max_macs != 0; }
};

}  // namespace uvs::bridge
