// SPDX-License-Identifier: MIT
// SlirpFd and SlirpTimer: one libslirp socket as a loop fd handler, one libslirp timer as a loop timer.
#pragma once

#include <cstdint>

#include "eventloop/callback.h"
#include "eventloop/event_loop.h"
#include "eventloop/fd_handler.h"
#include "eventloop/timer.h"

namespace uvs::slirpglue {

class NatPort;

/// Bits of libslirp's SLIRP_POLL_* that the loop can report.
inline constexpr uint8_t kRevIn = 1;   // SLIRP_POLL_IN
inline constexpr uint8_t kRevOut = 2;  // SLIRP_POLL_OUT

/// One socket libslirp owns. The registration watches what the last fill asked for (nothing
/// when the socket was not in it); events are remembered until the next pass hands them to
/// slirp_pollfds_poll. libslirp closes the fd itself, after unregister_poll_fd.
class SlirpFd final : public ev::FdHandler {
 public:
  SlirpFd(NatPort& port, int fd) : port_(port), fd_(fd) {}
  void on_readable() override { notify(kRevIn); }
  void on_writable() override { notify(kRevOut); }

  int fd() const { return fd_; }
  ev::FdRegistration reg;
  ev::Events want = ev::Events::kNone;  ///< what the registration watches now
  uint8_t revents = 0;                  ///< SLIRP_POLL_* seen since the last pass
  uint64_t fill_gen = 0;                ///< the fill that last asked for this fd

 private:
  void notify(uint8_t bits);
  NatPort& port_;
  int fd_;
};

/// A libslirp timer (timer_new_opaque): a loop timer that calls slirp_handle_timer.
class SlirpTimer {
 public:
  SlirpTimer(NatPort& port, ev::EventLoop& loop, int id, void* cb_opaque)
      : port_(port),
        id_(id),
        cb_opaque_(cb_opaque),
        timer_(loop, ev::Callback::bind<&SlirpTimer::fire>(this)) {}
  int id() const { return id_; }
  void* cb_opaque() const { return cb_opaque_; }
  ev::Timer& timer() { return timer_; }

 private:
  void fire();
  NatPort& port_;
  int id_;
  void* cb_opaque_;
  ev::Timer timer_;
};

}  // namespace uvs::slirpglue
