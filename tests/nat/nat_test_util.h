// SPDX-License-Identifier: MIT
// Helpers of the in-process NAT tests: a sink that keeps the NAT's frames, address parsing and
// running a loop until a condition holds.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdint>
#include <span>
#include <vector>

#include "eventloop/clock.h"
#include "eventloop/event_loop.h"
#include "port/port.h"
#include "slirp-glue/nat_options.h"

namespace uvs::slirpglue::test {

using Bytes = std::vector<uint8_t>;

/// Keeps every frame the NAT sends toward the guests.
struct Collect final : port::FrameSink {
  std::vector<Bytes> frames;
  void receive_burst(port::Port&, std::span<const port::Frame> fs) noexcept override {
    for (const port::Frame& f : fs) {
      Bytes b(f.len);
      f.copy_out(0, b.data(), b.size());
      frames.push_back(std::move(b));
    }
  }
};

/// A dotted-quad IPv4 address.
inline in_addr ip(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a;
}

/// QEMU's -netdev user addresses (10.0.2.0/24, host .2, DNS .3, leases from .15), IPv4 only.
inline NatPortOptions default_options(const char* name = "nat-test") {
  NatPortOptions o;
  o.name = name;
  o.net = ip("10.0.2.0");
  o.mask = ip("255.255.255.0");
  o.host = ip("10.0.2.2");
  o.dhcp_start = ip("10.0.2.15");
  o.dns = ip("10.0.2.3");
  o.ipv6 = false;
  return o;
}

/// Runs `loop` until `done()` or the deadline (ms); false on timeout.
template <typename F>
bool run_until(ev::EventLoop& loop, F done, int ms = 3000) {
  const int64_t end = ev::now_ns() + int64_t(ms) * 1'000'000;
  while (!done()) {
    if (ev::now_ns() > end) return false;
    loop.run_once(false);
    usleep(1000);
  }
  return true;
}

}  // namespace uvs::slirpglue::test
