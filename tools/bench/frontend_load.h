// SPDX-License-Identifier: MIT
// Scenario 1 of the netback benchmark: the in-repo vhost-user frontend as generator and sink.
#pragma once

#include <cstdint>
#include <string>

#include "tools/bench/net_run_result.h"

namespace uvs::bench {

/// One run of the in-repo generator against a fresh CrossWiredPair.
struct FrontendLoadOptions {
  std::string dir;            ///< where the backend's sockets go (must exist)
  uint32_t frame_len = 60;    ///< Ethernet bytes per frame, FCS excluded (>= 30)
  bool both_ways = false;     ///< false: send on A, receive on B; true: also B → A
  double warmup_s = 0.5;      ///< traffic before the measured interval
  double seconds = 2.0;       ///< the measured interval
  int generator_cpu = 0;      ///< CPU of the generator thread; < 0: unpinned
  int backend_cpu = 1;        ///< CPU of the backend loop thread; < 0: unpinned
  int64_t poll_max_ns = -1;   ///< backend loop busy-poll ceiling; < 0: the loop's default
  int idle_latency_samples = 0;  ///< > 0: afterwards, this many one-frame-in-flight A → B pings
  /// > 0: TCP/IPv4 superframes of frame_len bytes (up to port::kMaxFrameLen) sent as TSO with
  /// this MSS, between frontends that negotiate the offloads and post 64 KiB RX buffers (no
  /// MRG_RXBUF, as a Linux guest's "big packets" mode); 0: plain frames of at most 2036 bytes.
  uint16_t gso_mss = 0;
  /// Both frontends turn on dirty logging as QEMU does during a live migration (SET_LOG_BASE
  /// with a memfd log, VHOST_F_LOG_ALL, VHOST_VRING_F_LOG on every ring) before the warm-up, so
  /// the backend marks every page it writes for the whole run. Nobody clears the log.
  bool dirty_log = false;
};

/// Runs the scenario: a backend pair on its pinned IoThread, and on another pinned thread two
/// VhostFrontends (one per port) that keep at most one RX ring's worth of frames in flight per
/// direction — so the backend never meets an empty RX ring and nothing is dropped — stamping
/// each frame with its send time. Blocks for about warmup_s + seconds (+ the pings). Returns the
/// rates, backend CPU per packet and latency percentiles; `error` says what failed to start.
NetRunResult run_frontend_load(const FrontendLoadOptions& options);

}  // namespace uvs::bench
