// SPDX-License-Identifier: MIT
// Scenarios 2 and 3 of the netback benchmark: DPDK testpmd's virtio-user as the generator, in
// front of our backend pair or in front of testpmd's own vhost PMD (the baseline).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "tools/bench/net_run_result.h"

namespace uvs::bench {

/// One run with the testpmd generator.
struct TestpmdLoadOptions {
  std::string testpmd;        ///< absolute path of dpdk-testpmd
  std::string dir;            ///< this run's own directory: sockets and logs (must exist)
  std::string prefix;         ///< this run's --file-prefix stem (unique per run)
  uint32_t frame_len = 60;    ///< Ethernet bytes per frame, FCS excluded (testpmd --txpkts)
  double warmup_s = 1.0;      ///< forwarding before the measured interval
  double seconds = 2.0;       ///< the measured interval (between two `show port stats all`)
  int generator_cpu = 0;      ///< the generator's forwarding lcore
  int backend_cpu = 1;        ///< our loop thread, or the baseline's forwarding lcore
  int64_t poll_max_ns = -1;   ///< our backend loop's busy-poll ceiling; < 0: the default
  bool packed_rings = false;  ///< the generator asks for packed rings (virtio-user packed_vq=1)
  /// Queue pairs of each generator port (virtio-user queues=, testpmd --rxq/--txq) and of the
  /// baseline's vhost ports; its one forwarding lcore serves them all. Above 1 the generator
  /// seeds many flows (--txonly-multi-flow), so a backend's flow hash has more than one to spread.
  unsigned queues = 1;
  /// A mounted hugetlbfs for both testpmd processes' memory (the generator's guest memory the
  /// backends map); empty: --no-huge, 4 KiB pages.
  std::string huge_dir;
};

/// What the generator session reports beside the rates.
struct GeneratorCounts {
  uint64_t received = 0;  ///< frames both generator ports received over the interval
};

/// Runs the testpmd virtio-user generator (two ports with MACs 02:00:00:00:00:0a and :0b, each
/// port's --eth-peer the other's MAC, mac forwarding) against whatever listens at dir/a.sock and
/// dir/b.sock: start-up, `start tx_first 8`, warm-up, two `show port stats all` `seconds` apart
/// (calling `at_show(0)` and `at_show(1)` right after each, so the backend is sampled over the
/// same interval), then stop and quit. Fills r->pps (or r->error) and `counts`. Control thread.
void drive_generator(const TestpmdLoadOptions& o, const std::function<void(int)>& at_show,
                     NetRunResult* r, GeneratorCounts* counts);

/// Scenario 2: testpmd virtio-user (two ports, mac forwarding, closed loop seeded with
/// `start tx_first 8`) against a CrossWiredPair on `backend_cpu`. Rates are testpmd's Rx-pps per
/// port over the interval; CPU per packet is our loop thread's CPU over the same interval divided
/// by the frames it forwarded. Blocks for about start-up + warmup_s + seconds. One queue pair
/// only: a run with `queues` above 1 fails with an error.
NetRunResult run_testpmd_uvswitch(const TestpmdLoadOptions& options);

/// Scenario 3, the baseline: the same generator against a second testpmd running its vhost PMD
/// (`net_vhost0/1` with `queues` queue pairs, io forwarding, one forwarding lcore on
/// `backend_cpu` serving every queue). CPU per packet is that
/// process's CPU over the interval divided by the frames the generator received in it.
NetRunResult run_testpmd_baseline(const TestpmdLoadOptions& options);

}  // namespace uvs::bench
