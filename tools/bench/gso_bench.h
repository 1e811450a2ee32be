// SPDX-License-Identifier: MIT
// The offload benchmark (`uvswitch-bench gso`): vhost-user to vhost-user with 64 KiB TSO frames
// from the in-repo frontend, beside the same bytes as plain MTU-size frames.
#pragma once

#include <cstdint>

namespace uvs::bench {

/// Command-line options of `uvswitch-bench gso`.
struct GsoBenchOptions {
  bool json = false;
  int repeats = 5;              ///< runs per figure, interleaved; medians are reported
  double seconds = 2.0;         ///< measured interval of each run
  double warmup_seconds = 0.5;  ///< traffic before each measured interval
  uint32_t gso_frame_len = 65549;  ///< superframe bytes (Ethernet + IPv4 total length 65535)
  uint16_t mss = 1448;          ///< gso_size of the superframes
  uint32_t plain_frame_len = 1514;  ///< the no-offload baseline: one MTU-1500 frame
  int generator_cpu = 0;
  int backend_cpu = 1;
};

/// Runs both scenarios (one direction, A to B, through a cross-wired backend pair pinned to
/// backend_cpu) and prints Gbit/s of Ethernet bytes, the backend's share of a core and its CPU
/// seconds per Gbit. Returns 0 when every run produced figures.
int run_gso_bench(const GsoBenchOptions& opts);

}  // namespace uvs::bench
