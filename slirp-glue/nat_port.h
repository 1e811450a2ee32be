// SPDX-License-Identifier: MIT
// NatPort: a libslirp instance as a uvs::port::Port whose sockets and timers live in one loop.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eventloop/bottom_half.h"
#include "eventloop/event_loop.h"
#include "eventloop/log.h"
#include "eventloop/timer.h"
#include "port/port.h"
#include "slirp-glue/nat_options.h"
#include "slirp-glue/nat_segments.h"
#include "slirp-glue/nat_status.h"
#include "slirp-glue/slirp_lock.h"

struct Slirp;  // libslirp's opaque instance; its header stays out of ours

namespace uvs::slirpglue {

class SlirpFd;
class SlirpTimer;
class DnsRelay;
class NatConnLimit;

/// A user-mode NAT (libslirp 4.7) behind the switch, like QEMU's `-netdev user`.
///
/// Event-loop integration: every socket libslirp opens is a loop fd handler (registered through
/// libslirp's register_poll_fd / unregister_poll_fd callbacks). libslirp's fill/poll pass,
/// which walks every socket, runs only after something happened — an fd event (the pass runs in
/// that handler, see on_fd_event), a burst from the switch or a libslirp timer (one coalesced
/// bottom half), or the TCP tick — never once per loop iteration, so an idle loop costs nothing
/// per open connection. The interest set each fill asks for is pushed to the
/// loop registrations. libslirp timers are loop timers; the TCP fast (2 ms, delayed ACK) and slow
/// (500 ms, retransmit / keepalive / close) ticks are one loop timer armed from the timeout the
/// fill returns, and disarmed when libslirp needs no tick (no connections).
///
/// Every method runs on the loop thread given at construction; destroy before the loop.
class NatPort final : public port::Port {
 public:
  NatPort(ev::EventLoop& loop, NatPortOptions options);
  ~NatPort() override;
  NatPort(const NatPort&) = delete;
  NatPort& operator=(const NatPort&) = delete;

  /// Creates the libslirp instance and the start-up forwards. Fails (nothing left running)
  /// with kBadOption when libslirp refuses the addresses, kOverlap / kBind for a forward that
  /// overlaps another or cannot bind (the message names the rule), kSocket for the DNS relay.
  NatStatus start();

  /// Hands each frame addressed to the NAT (its MACs, broadcast, multicast) to libslirp; other
  /// unicast frames are counted as in_not_ours. Takes every frame. Never blocks.
  size_t send_burst(std::span<const port::Frame> frames) noexcept override;
  void set_sink(port::FrameSink* sink) noexcept override { sink_ = sink; }
  std::string_view name() const noexcept override { return opts_.name; }
  port::PortState state() const noexcept override;
  /// TSO over IPv4 and IPv6 (with ECN) but no partial checksums: the switch completes a
  /// superframe's checksums and hands it over whole, and libslirp (MRU kSlirpLargeMtu) takes it
  /// as one segment. A partial checksum alone is completed by the switch too.
  uint32_t offload_caps() const noexcept override;

  /// Adds a forward at run time. kOverlap if it overlaps an existing one, kBind when the host
  /// socket cannot be bound (port in use), kBadOption for a guest address outside the net or an
  /// IPv6 host address (libslirp 4.7 cannot carry those to an IPv4 guest). Nothing changes on
  /// failure. Control path, loop thread.
  NatStatus add_forward(const NatForward& fwd);
  /// Removes the forward with the same protocol, host address and host port; kNotFound if none.
  NatStatus remove_forward(const NatForward& fwd);
  /// The forwards in effect, in the order they were added (guest address resolved).
  const std::vector<NatForward>& forwards() const noexcept { return forwards_; }

  NatPortStats stats() const noexcept;
  const NatPortOptions& options() const noexcept { return opts_; }

  // libslirp callbacks (static trampolines in nat_port.cc call these); not for other callers.
  void on_slirp_output(const uint8_t* data, size_t len) noexcept;
  void on_register_fd(int fd) noexcept;
  void on_unregister_fd(int fd) noexcept;
  int on_add_poll(int fd, int events) noexcept;
  int on_get_revents(int idx) noexcept;
  void on_guest_error(const char* msg) noexcept;
  void* on_timer_new(int id, void* cb_opaque) noexcept;
  void on_timer_fire(SlirpTimer& t) noexcept;
  void on_fd_event(SlirpFd& f, uint8_t revents) noexcept;
  /// Asks for one fill/poll pass on the loop (coalesced).
  void schedule_pass() noexcept { pass_bh_.schedule(); }
  /// Sends a frame toward the guests (used by libslirp's output and the DNS relay).
  void deliver(const uint8_t* data, size_t len) noexcept;
  /// Sends frames toward the guests as one burst (libslirp's GSO frames and fragments).
  void deliver_frames(std::span<const port::Frame> frames) noexcept;
  Slirp* slirp() noexcept { return slirp_; }

 private:
  void run_pass() noexcept;
  /// Holds the process-wide libslirp lock and marks this instance busy for one call.
  struct Entry {
    explicit Entry(NatPort& p) : port(p), lock(slirp_lock()) { ++port.in_slirp_; }
    ~Entry() { --port.in_slirp_; }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    NatPort& port;
    std::lock_guard<std::recursive_mutex> lock;
  };
  bool addressed_to_us(const uint8_t* frame) const noexcept;
  void note_dhcp(const uint8_t* frame, size_t len) noexcept;
  NatStatus install_forward(const NatForward& fwd);

  ev::EventLoop& loop_;
  NatPortOptions opts_;
  port::FrameSink* sink_ = nullptr;
  Slirp* slirp_ = nullptr;
  ev::BottomHalf pass_bh_;
  ev::Timer tick_;
  bool filled_ = false;
  /// Inside a libslirp call on this instance. A frame that comes back to us meanwhile (our
  /// output reached another NAT on this thread, whose answer the switch hands straight back)
  /// would re-enter libslirp mid-call, which it does not allow: such frames are dropped.
  int in_slirp_ = 0;
  std::vector<std::unique_ptr<SlirpFd>> fds_;  ///< by fd number
  std::vector<SlirpFd*> registered_;          ///< the non-null entries of fds_
  std::vector<int> fill_fds_;                 ///< index libslirp was given -> fd
  uint64_t fill_gen_ = 0;
  std::vector<std::unique_ptr<SlirpTimer>> timers_;
  std::vector<NatForward> forwards_;
  std::unique_ptr<DnsRelay> dns_;
  std::unique_ptr<NatConnLimit> conns_;  ///< max_connections; null: no limit
  ev::LogRateLimit guest_error_log_;
  std::vector<uint8_t> scratch_;  ///< linearizes scattered frames for slirp_input
  NatSegments segs_;
  uint8_t our_macs_[4][6] = {};
  uint8_t lease_macs_[16][6] = {};
  NatPortStats stats_;
};

}  // namespace uvs::slirpglue
