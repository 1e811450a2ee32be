// SPDX-License-Identifier: MIT
// Bridge: the L2 switch's control surface — ports, forwarding threads, FDB aging, stats, dumps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventloop/event_loop.h"
#include "eventloop/timer.h"
#include "port/port.h"
#include "switch/bridge_error.h"
#include "switch/capture.h"
#include "switch/fdb.h"
#include "switch/forwarder.h"
#include "switch/port_guard.h"
#include "switch/port_slot.h"
#include "switch/switch_stats.h"
#include "switch/vlan.h"

namespace uvs::bridge {

/// Sizes and timers of a bridge, fixed at construction (aging can change later).
struct BridgeOptions {
  size_t max_ports = 256;                   ///< port slots (indices 0..max_ports-1), <= 65535
  size_t fdb_capacity = Fdb::kDefaultCapacity;
  int64_t aging_ns = Fdb::kDefaultAgingNs;  ///< 0 disables aging
  /// 2 KiB slots per ring. A ring is made for an ordered pair of forwarding threads only once
  /// both host a port. 1024 slots = 2 MiB buffers 32 bursts of full-size frames between two
  /// threads; with more than kFullRingThreads threads each ring gets a share of
  /// kFullRingThreads * ring_slots (at least kMinRingSlots), so a thread's inboxes together stay
  /// near 16 MiB however many threads there are.
  size_t ring_slots = 1024;
  static constexpr size_t kFullRingThreads = 8;
  /// Four bursts of full-size frames (and twice the largest 64 KiB frame).
  static constexpr size_t kMinRingSlots = 128;
};

/// One lane of a port spread over several threads: the Port object that runs there.
struct PortLaneSpec {
  port::Port* port = nullptr;  ///< lives on loop `thread`
  unsigned thread = 0;
};

/// How a port is attached.
struct PortOptions {
  VlanConfig vlan;                ///< default: access port of VLAN 1
  std::optional<unsigned> thread; ///< forwarding thread; absent: pick_thread()
  std::string name;               ///< empty: port.name()
  PortSecurityOptions security;   ///< default: no port security
};

/// An IEEE 802.1Q-style learning bridge over Ports spread across N forwarding threads.
///
/// Threading:
///  * Forwarding runs on the loops given to the constructor (index = thread number); every port is
///    attached to one of them and the port must already live on that loop.
///  * Control calls (add_port, remove_port, flushes, stats, dumps) come from a control thread —
///    any thread that is NOT one of the forwarding loops, because they wait on each forwarding
///    loop with run_in_loop_sync. They are serialised internally. Loops that are not running yet
///    are driven inline (start-up configuration before the threads start), so do not start the
///    threads concurrently with a control call, and count a loop as running only once it has run
///    a callback (PortThreads::start() waits for that; a bare IoThread::start() does not).
///  * Lifetime: the loops must outlive the Bridge; a Port must stay alive until remove_port() (or
///    the Bridge's destruction) returns. Destroy the Bridge while its loops all run or all are
///    stopped.
class Bridge {
 public:
  /// Creates a forwarder per loop in `loops` (at least one) and arms the FDB aging sweep on
  /// loops[0]. Rings between threads are allocated by add_port, for the thread pairs that host
  /// ports. Control thread.
  Bridge(std::span<ev::EventLoop* const> loops, const BridgeOptions& options = {});
  /// Removes every port (their sinks are reset) and tears the forwarders down.
  ~Bridge();
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  /// Attaches `port` (already living on loop `opts.thread`) and sets its sink; frames flow from
  /// then on. Returns the port's index, or an error (bad VLAN settings, bad thread, no free slot,
  /// already attached, name taken). Control thread.
  Result<PortIndex> add_port(port::Port& port, const PortOptions& opts = {});

  /// Attaches one port made of `lanes`, each living on its own forwarding thread (opts.thread is
  /// ignored): one FDB identity, one set of counters (summed over the lanes), one VLAN setting.
  /// Ingress on a lane runs on that lane's thread. Egress goes to the lane on the sending thread
  /// when there is one, otherwise to the lane the frame's flow hash picks, so the frames of one
  /// flow always take one path and stay in order. Storm control (bum_rate) is shared out
  /// between the lanes. Errors as add_port's, and for no lanes, more than kMaxLanes, or two
  /// lanes on one thread. Control thread.
  Result<PortIndex> add_port(std::span<const PortLaneSpec> lanes, const PortOptions& opts = {});

  /// Detaches port `index`: unsets its sink on its thread, makes every forwarding thread drop its
  /// references (frames already queued toward it are discarded), and flushes its FDB entries.
  /// When it returns the caller may destroy the Port. Returns false if `index` is not attached.
  /// Control thread; safe while traffic flows.
  bool remove_port(PortIndex index);

  /// Attaches `capture` to the port named `port`: from then on the port's thread hands it the
  /// frames of the directions it wants. Errors: no such port, kMax captures on it already, or a
  /// port spread over several threads (a capture has one producer thread).
  /// The capture must stay alive until detach_capture() or the port's removal. Control thread.
  Result<PortIndex> attach_capture(std::string_view port, Capture& capture);
  /// Detaches `capture` from whichever port has it; when this returns the port thread no longer
  /// touches it. False if no port has it (e.g. the port was removed: remove_port() detaches its
  /// captures and calls Capture::mark_port_gone()). Control thread.
  bool detach_capture(Capture& capture);

  /// The forwarding thread with the fewest ports (lowest index on ties); where a new port should
  /// be created when the user did not pin it. Control thread.
  unsigned pick_thread() const;
  /// The `n` forwarding threads (n clamped to 1..thread_count()) with the fewest port lanes,
  /// fewest first, lowest index on ties; where a port spread over several threads should run
  /// when the user did not list them. Control thread.
  std::vector<unsigned> pick_threads(size_t n) const;
  /// The index of the attached port named `name`. Control thread.
  std::optional<PortIndex> find_port(std::string_view name) const;
  size_t thread_count() const { return loops_.size(); }

  /// Counters of every attached port, every thread and the FDB. Any non-forwarding thread;
  /// values are read with relaxed loads, so a snapshot is not atomic across counters.
  BridgeStats stats() const;

  /// The FDB, ordered by (VLAN, MAC). Control thread.
  std::vector<FdbRecord> fdb_dump() const;
  /// Flush all / one port's / one VLAN's entries; return how many were removed. Control thread.
  size_t flush_fdb();
  size_t flush_fdb_port(PortIndex index);
  size_t flush_fdb_vlan(uint16_t vlan);
  /// Changes the aging time (0 disables) and re-arms the sweep for it. Control thread.
  void set_aging_ns(int64_t ns);

  /// Direct access for tests and benchmarks.
  Fdb& fdb() { return fdb_; }

 private:
  void on_aging_timer();
  int64_t sweep_interval_ns() const;
  /// Runs `fn` on forwarding loop `t`: inline when that loop is not running (or is this thread).
  void run_on(unsigned t, const std::function<void()>& fn);
  /// Makes the rings between `thread` and every other thread that hosts a port. Control thread.
  void make_rings(unsigned thread);

  std::vector<ev::EventLoop*> loops_;
  BridgeOptions opts_;
  std::unique_ptr<PortSlot[]> ports_;
  Fdb fdb_;
  std::vector<std::unique_ptr<Forwarder>> fwd_;
  std::unique_ptr<ev::Timer> aging_timer_;  // on loops_[0]

  mutable std::mutex control_mu_;  // serialises control calls
  std::vector<size_t> thread_ports_;
  std::vector<bool> ring_made_;  // [src * nthreads + dst]
  size_t ring_slots_ = 0;        // per ring, scaled to the thread count
  std::vector<std::pair<Capture*, PortIndex>> captures_;  // attached captures, control thread
};

}  // namespace uvs::bridge
