// SPDX-License-Identifier: MIT
// CaptureTaps: the captures attached to one port slot, per direction, as its port thread sees them.
#pragma once

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "port/frame.h"
#include "switch/capture.h"

namespace uvs::bridge {

/// Fixed arrays, so attaching a capture never allocates and the data path reads two bytes to
/// learn that nothing is attached. Read and written only on the port's own thread (the bridge
/// changes them through run_in_loop_sync on that thread), which is what makes plain fields safe.
struct CaptureTaps {
  static constexpr size_t kMax = 8;  ///< captures per port and direction
  Capture* in[kMax] = {};
  Capture* out[kMax] = {};
  uint8_t n_in = 0;
  uint8_t n_out = 0;

  /// Adds `c` for the directions it wants; false when a list is full. Port thread.
  bool add(Capture* c) noexcept {
    if ((c->wants_ingress() && n_in == kMax) || (c->wants_egress() && n_out == kMax)) return false;
    if (c->wants_ingress()) in[n_in++] = c;
    if (c->wants_egress()) out[n_out++] = c;
    return true;
  }
  /// Removes `c` from both lists; true if it was there. Port thread.
  bool remove(Capture* c) noexcept { return remove_from(in, n_in, c) | remove_from(out, n_out, c); }

  /// Every attached capture once (for a port that goes away). Port thread.
  template <typename Fn>
  void for_each(Fn&& fn) {
    for (uint8_t i = 0; i < n_in; ++i) fn(in[i]);
    for (uint8_t i = 0; i < n_out; ++i) {
      bool seen = false;
      for (uint8_t j = 0; j < n_in; ++j) seen = seen || in[j] == out[i];
      if (!seen) fn(out[i]);
    }
  }
  void clear() noexcept { n_in = n_out = 0; }

 private:
  static bool remove_from(Capture** list, uint8_t& n, Capture* c) noexcept {
    for (uint8_t i = 0; i < n; ++i) {
      if (list[i] != c) continue;
      for (uint8_t j = i; j + 1 < n; ++j) list[j] = list[j + 1];
      --n;
      return true;
    }
    return false;
  }
};

/// Hands a burst to each capture in `list` with one shared wall-clock timestamp (pcap files
/// carry wall-clock time). Port thread; a vDSO clock read and the copies, nothing else.
inline void tap_burst(Capture* const* list, uint8_t n, std::span<const port::Frame> frames) noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const int64_t ns = int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  for (uint8_t i = 0; i < n; ++i) list[i]->tap(frames, ns);
}

/// Egress around Port::send_burst: offered frames are queued before the send and settled after
/// it, so what the port produces inside send_burst (a NAT reply) follows them. Port thread.
class EgressTap {
 public:
  EgressTap(const CaptureTaps& taps, std::span<const port::Frame> frames) noexcept
      : taps_(taps), frames_(frames) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    ts_ = int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
    for (uint8_t i = 0; i < taps_.n_out; ++i) held_[i] = taps_.out[i]->tap_offered(frames_, ts_);
  }
  /// After the send: keeps the first `sent` frames in every capture.
  void settle(size_t sent) noexcept {
    for (uint8_t i = 0; i < taps_.n_out; ++i) {
      if (held_[i]) {
        taps_.out[i]->settle(sent);
      } else if (sent) {
        taps_.out[i]->tap(frames_.first(sent), ts_);  // nested egress: after the fact
      }
    }
  }

 private:
  const CaptureTaps& taps_;
  std::span<const port::Frame> frames_;
  int64_t ts_ = 0;
  bool held_[CaptureTaps::kMax] = {};
};

}  // namespace uvs::bridge
