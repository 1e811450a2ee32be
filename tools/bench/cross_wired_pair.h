// SPDX-License-Identifier: MIT
// CrossWiredPair: the backend under test — two vhost-user-net ports on one pinned IoThread,
// each port's guest TX delivered to the other's guest RX, with counters readable from outside.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "eventloop/io_thread.h"
#include "netback/vhost/vhost_user_net_port.h"
#include "port/port.h"

namespace uvs::bench {

/// A snapshot of the pair's data-path counters and the loop thread's CPU time.
struct PairSample {
  int64_t wall_ns = 0;       ///< CLOCK_MONOTONIC when taken
  int64_t cpu_ns = 0;        ///< CPU time the backend loop thread has used so far
  uint64_t forwarded[2] = {};  ///< frames from A delivered to B (0), from B to A (1)
  uint64_t dropped[2] = {};    ///< frames the other side refused (no RX buffers, not ready)
};

/// The backend the netback benchmark measures, as tests/netback/vhost_pair runs it: ports "A"
/// and "B" listen (server role) at `dir`/a.sock and `dir`/b.sock on an IoThread pinned to one CPU,
/// and a sink sends every burst one port receives out of the other in the same call (one copy,
/// guest buffer to guest buffer). Construct and destroy on a control thread; sample() may be
/// called from any thread at any time.
class CrossWiredPair {
 public:
  /// Starts the loop thread (pinned to `cpu`, unpinned when < 0) and both ports. `poll_max_ns`
  /// is the loop's busy-poll ceiling (LoopOptions::poll_max_ns; negative keeps the default).
  /// Check error() afterwards: empty when both ports listen.
  CrossWiredPair(const std::string& dir, int cpu, int64_t poll_max_ns);
  /// Destroys the ports on their loop thread, stops the thread, removes the sockets.
  ~CrossWiredPair();
  CrossWiredPair(const CrossWiredPair&) = delete;
  CrossWiredPair& operator=(const CrossWiredPair&) = delete;

  /// Why the pair could not start (empty when it did).
  const std::string& error() const { return error_; }
  /// Socket paths a frontend connects to.
  const std::string& path_a() const { return path_a_; }
  const std::string& path_b() const { return path_b_; }

  /// Counters and loop CPU time now. Any thread; wait-free (relaxed atomics, a CPU clock read).
  PairSample sample() const noexcept;
  /// Full port counters of A (0) or B (1), fetched on the loop thread (blocks briefly).
  netback::VhostUserNetStats port_stats(int which);
  /// Waits until both ports have a connected frontend with a running ring, up to `timeout_ms`.
  bool wait_up(int timeout_ms);

 private:
  /// The cross-wire. Counters are written by the loop thread only, so a relaxed load + store
  /// (no locked instruction) keeps them readable from the control thread.
  class Sink final : public port::FrameSink {
   public:
    port::Port* a = nullptr;
    port::Port* b = nullptr;
    std::atomic<uint64_t> forwarded[2] = {};
    std::atomic<uint64_t> dropped[2] = {};
    void receive_burst(port::Port& from, std::span<const port::Frame> frames) noexcept override;
  };

  std::string path_a_, path_b_;
  std::string error_;
  ev::IoThread io_;
  Sink sink_;
  std::unique_ptr<netback::VhostUserNetPort> a_, b_;
  clockid_t cpu_clock_{};
  bool have_cpu_clock_ = false;
};

}  // namespace uvs::bench
