// SPDX-License-Identifier: MIT
// Capture: one running capture of a port — BPF filter, bounded queue, writer thread, counters.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>

#include "port/frame.h"
#include "switch/capture_queue.h"
#include "switch/pcap_sink.h"
#include "switch/switch_stats.h"

struct bpf_program;

namespace uvs::bridge {

/// What a capture records and where it writes it.
struct CaptureOptions {
  std::string port;      ///< the port's name, for messages
  std::string path;      ///< output file; ignored when stream_fd >= 0
  int stream_fd = -1;    ///< write a live pcap stream here instead (ownership passes)
  bool ingress = true;   ///< frames the port delivers to the switch
  bool egress = true;    ///< frames the switch sends out of the port
  std::string filter;    ///< pcap-filter(7) expression; empty keeps everything
  uint32_t snaplen = 262144;
  uint64_t max_bytes = 0;  ///< rotate files at this size; 0 never
  unsigned max_files = 0;  ///< rotated files kept, FILE included; 0 all
  unsigned mode = 0600;    ///< permissions of the files (PcapSink::open_file)
  /// Frame bytes the queue holds before the capture drops: 8 MiB is about 6 ms of a 10 Gbit/s
  /// port, far longer than the writer's 1 ms wake-up period.
  size_t queue_bytes = size_t{8} << 20;
  int writer_nice = 10;  ///< the writer yields to the forwarding threads
};

/// Counters of one capture. `matched` frames went into the queue, `written` reached the
/// file or stream; `filtered_out` failed the BPF filter; `dropped` found the queue full
/// (the data path never waits for the writer).
struct CaptureCounts {
  uint64_t matched = 0;
  uint64_t filtered_out = 0;
  uint64_t dropped = 0;
  uint64_t written = 0;
  uint64_t bytes_written = 0;
  uint64_t files = 0;
  size_t queue_used = 0;
  bool failed = false;   ///< the writer hit an error and stopped writing
  std::string error;
};

/// A capture of one port. The port thread calls tap(); a writer thread of its own drains the
/// queue into a PcapSink. The bridge attaches and detaches it (Bridge::attach_capture).
///
/// Lifetime: create(), attach, ..., detach (or remove the port), then stop() or destroy.
class Capture {
 public:
  /// Compiles the filter, opens the output and starts the writer thread. Null with `*error`
  /// naming the port and the cause ("capture of vm0: bad filter 'tcp port': ...",
  /// "capture of vm0: cannot open /x/y.pcap: No such file or directory"). Control thread.
  static std::unique_ptr<Capture> create(CaptureOptions opts, std::string* error);
  ~Capture();  ///< stop()
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  /// Records the frames that pass the filter (copying at most snaplen bytes of each) with one
  /// timestamp. A frame with a partial checksum (Offload::kNeedsCsum) is recorded with the
  /// checksum completed in the copy; a GSO frame is recorded whole, as it crossed the port. Runs on the port's thread; never blocks, allocates or makes a system call;
  /// frames that find the queue full are counted as dropped.
  void tap(std::span<const port::Frame> frames, int64_t ts_ns) noexcept;

  /// Egress, step 1, before Port::send_burst: queues the offered frames but does not publish
  /// them, so frames the port produces synchronously while taking them (the NAT port answering
  /// ARP or DHCP inside send_burst, which re-enters ingress) land after them in the file.
  /// Returns false when a step 1 is already open (nested egress); the caller then uses tap()
  /// after the send. Port thread; never blocks.
  bool tap_offered(std::span<const port::Frame> frames, int64_t ts_ns) noexcept;
  /// Egress, step 2, after send_burst: keeps the first `sent` offered frames, cancels the ones
  /// the port refused, and publishes. Port thread.
  void settle(size_t sent) noexcept;

  /// Lets the writer finish what is queued, closes the output and joins the thread. Call only
  /// after the capture is detached from every port. Control thread; idempotent.
  void stop();

  /// Called by the bridge when the port this capture was attached to is removed.
  void mark_port_gone() noexcept { port_gone_.store(true, std::memory_order_relaxed); }
  bool port_gone() const noexcept { return port_gone_.load(std::memory_order_relaxed); }
  /// The writer hit an error (disk full, stream reader gone) and writes no more.
  bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }

  CaptureCounts counts() const;
  const CaptureOptions& options() const { return opts_; }
  bool wants_ingress() const noexcept { return opts_.ingress; }
  bool wants_egress() const noexcept { return opts_.egress; }

 private:
  explicit Capture(CaptureOptions opts);
  /// Filters and queues one frame (not published); its data pointer in the queue, or null when
  /// filtered out or dropped (counted in `filtered` / `dropped`).
  uint8_t* record(const port::Frame& f, int64_t ts_ns, size_t& filtered, size_t& dropped) noexcept;
  void writer_main();
  size_t drain();

  CaptureOptions opts_;
  std::unique_ptr<bpf_program> prog_;  // null: no filter
  std::unique_ptr<uint8_t[]> scratch_;  // a whole frame, for filtering scattered frames
  CaptureQueue queue_;
  std::unique_ptr<PcapSink> sink_;  // writer thread only once it runs
  std::thread writer_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<bool> port_gone_{false};
  // Port thread: the open egress step (tap_offered .. settle).
  bool holding_ = false;
  size_t offered_ = 0;
  uint8_t* offered_rec_[port::kMaxBurst] = {};
  // Port thread counters.
  Counter matched_, filtered_out_, dropped_;
  // Writer thread counters.
  Counter written_, bytes_written_, files_;
  mutable std::mutex error_mu_;  // the error text is set once by the writer, read by `captures`
  std::string error_;
};

}  // namespace uvs::bridge
