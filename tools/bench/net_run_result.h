// SPDX-License-Identifier: MIT
// NetRunResult: what one timed run of a vhost-user data-path scenario measured.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace uvs::bench {

/// Direction 0 is frames sent into port A (testpmd port 0) and delivered out of port B (testpmd
/// port 1); direction 1 the reverse.
struct NetRunResult {
  std::string error;           ///< non-empty: the run failed and the figures are meaningless
  double pps[2] = {0, 0};      ///< frames per second delivered, per direction
  double backend_cpu_ns_per_packet = 0;  ///< backend CPU time / frames forwarded (both ways)
  double backend_core_share = 0;         ///< backend CPU time / wall time (1.0 = one core)
  uint64_t dropped = 0;        ///< frames the backend dropped during the interval
  int64_t lat_p50_ns = -1;     ///< per-frame latency under load (in-repo generator only)
  int64_t lat_p99_ns = -1;
  int64_t idle_lat_p50_ns = -1;  ///< one frame in flight at a time (in-repo generator only)
  int64_t idle_lat_p99_ns = -1;
  // The switch daemon only, over the interval: how its vhost-user ports' sending spread.
  std::vector<uint64_t> thread_frames;  ///< [t]: frames sent by queues on I/O thread t
  std::vector<uint64_t> queue_frames;   ///< [q]: frames sent by queue pair q, all ports
  uint64_t cross_thread = 0;            ///< frames that went through another thread's ring

  bool ok() const { return error.empty(); }
  double total_pps() const { return pps[0] + pps[1]; }
};

/// Gbit/s of Ethernet frame bytes (no FCS, preamble or gap) at `pps` frames of `frame_len`.
inline double gbit_per_s(double pps, uint32_t frame_len) {
  return pps * double(frame_len) * 8.0 / 1e9;
}

}  // namespace uvs::bench
