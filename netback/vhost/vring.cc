// SPDX-License-Identifier: MIT
// Vring: eventfd signalling and draining, stop and reset.
#include "netback/vhost/vring.h"

#include <unistd.h>

#include <cerrno>

namespace uvs::netback {

bool Vring::signal() noexcept {
  if (call_fd < 0) return false;
  uint64_t one = 1;
  for (;;) {
    ssize_t r = ::write(call_fd, &one, sizeof one);
    if (r < 0 && errno == EINTR) continue;
    return r == sizeof one;
  }
}

bool Vring::drain_kick() noexcept {
  if (kick_fd < 0) return false;
  uint64_t v;
  for (;;) {
    ssize_t r = ::read(kick_fd, &v, sizeof v);
    if (r < 0 && errno == EINTR) continue;
    return r == sizeof v;
  }
}

void Vring::set_kick(int fd, bool nofd) noexcept {
  if (kick_fd >= 0) ::close(kick_fd);
  kick_fd = fd;
  kick_nofd = nofd;
}

void Vring::set_call(int fd) noexcept {
  if (call_fd >= 0) ::close(call_fd);
  call_fd = fd;
}

void Vring::stop() noexcept {
  started = false;
  vq.reset();
  pvq.reset();
  packed = false;
  set_kick(-1, false);
  set_call(-1);
}

void Vring::reset() noexcept {
  stop();
  num = 0;
  base = 0;
  has_addr = false;
  addr = {};
  enabled = false;
}

}  // namespace uvs::netback
