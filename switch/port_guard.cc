// SPDX-License-Identifier: MIT
// PortGuard: the token bucket's refill and the guard's configuration.
#include "switch/port_guard.h"

#include <algorithm>

namespace uvs::bridge {

void TokenBucket::configure(uint32_t per_second) noexcept {
  rate_ = per_second;
  depth_ = std::max<uint64_t>(per_second / 10, kMinDepth) * uint64_t(kNsPerSec);
  credit_ = depth_;
  last_ns_ = 0;
}

void TokenBucket::refill(int64_t now_ns) noexcept {
  const int64_t elapsed = now_ns - last_ns_;
  if (elapsed <= 0) return;
  last_ns_ = now_ns;
  // Past this many ns the bucket is full whatever it held; capping first keeps elapsed * rate
  // far from overflowing after a long idle spell.
  const uint64_t fill_ns = depth_ / rate_ + 1;
  const uint64_t add = uint64_t(elapsed) >= fill_ns ? depth_ : uint64_t(elapsed) * rate_;
  credit_ = std::min(depth_, credit_ + add);
}

void PortGuard::configure(const PortSecurityOptions& o) noexcept {
  max_macs = o.max_macs;
  lock_mac = o.allowed_mac.has_value();
  allowed_mac = o.allowed_mac.value_or(MacAddr{});
  bum.configure(o.bum_rate);
}

}  // namespace uvs::bridge
