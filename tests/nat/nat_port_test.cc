// SPDX-License-Identifier: MIT
// NatPort in-process: frames in and out (ARP), the MAC filter, forwards and their refusals, and
// that an idle NAT neither ticks nor runs passes; a host connection reaches the guest side.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#include "eventloop/clock.h"
#include "eventloop/event_loop.h"
#include "slirp-glue/nat_port.h"
#include "tests/eventloop/test_config.h"
#include "tests/nat/nat_test_util.h"

namespace uvs::slirpglue {
namespace {

using test::Bytes;
using test::Collect;
using test::ip;
using test::default_options;
using test::run_until;

constexpr uint8_t kGuestMac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

// An ARP who-has `target` from the guest (10.0.2.15), to `dst` (broadcast by default).
Bytes arp_request(const char* target, const uint8_t* dst = nullptr) {
  static constexpr uint8_t kBcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  Bytes f(42, 0);
  std::memcpy(f.data(), dst ? dst : kBcast, 6);
  std::memcpy(f.data() + 6, kGuestMac, 6);
  f[12] = 0x08, f[13] = 0x06;                            // ARP
  f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0, f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1;
  std::memcpy(f.data() + 22, kGuestMac, 6);
  in_addr me = ip("10.0.2.15"), t = ip(target);
  std::memcpy(f.data() + 28, &me, 4);
  std::memcpy(f.data() + 38, &t, 4);
  return f;
}

void send(NatPort& nat, const Bytes& f, size_t split = 0) {
  iovec iov[2];
  uint32_t n = 1;
  if (split && split < f.size()) {
    iov[0] = {const_cast<uint8_t*>(f.data()), split};
    iov[1] = {const_cast<uint8_t*>(f.data()) + split, f.size() - split};
    n = 2;
  } else {
    iov[0] = {const_cast<uint8_t*>(f.data()), f.size()};
  }
  port::Frame fr{iov, n, static_cast<uint32_t>(f.size())};
  CHECK(nat.send_burst(std::span<const port::Frame>(&fr, 1)) == 1);
}

uint16_t free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr = ip("127.0.0.1");
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

NatForward tcp_fwd(const char* host, uint16_t host_port, uint16_t guest_port) {
  NatForward f;
  f.host4 = ip(host);
  f.host_port = host_port;
  f.guest_port = guest_port;
  return f;
}

}  // namespace

TEST_CASE("nat: ARP for the gateway is answered with the NAT's MAC, scattered or not") {
  ev::EventLoop loop(ev::test::loop_options());
  NatPort nat(loop, default_options());
  Collect sink;
  nat.set_sink(&sink);
  REQUIRE(nat.start());
  CHECK(nat.state() == port::PortState::kUp);
  send(nat, arp_request("10.0.2.2"));
  send(nat, arp_request("10.0.2.3"), 20);  // split mid-header: the copy path
  REQUIRE(sink.frames.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    const Bytes& r = sink.frames[i];
    REQUIRE(r.size() >= 42);
    CHECK(std::memcmp(r.data(), kGuestMac, 6) == 0);  // to the guest
    CHECK(r[12] == 0x08);
    CHECK(r[13] == 0x06);
    CHECK(r[21] == 2);  // ARP reply
    CHECK(r[22] == 0x52);
    CHECK(r[23] == 0x55);
  }
  // The answer's sender MAC carries the address asked for: 52:55:0a:00:02:02 / :03.
  CHECK(sink.frames[0][27] == 2);
  CHECK(sink.frames[1][27] == 3);
  NatPortStats s = nat.stats();
  CHECK(s.in_frames == 2);
  CHECK(s.out_frames == 2);
  CHECK(s.in_not_ours == 0);
}

TEST_CASE("nat: unicast frames for other MACs never reach libslirp") {
  ev::EventLoop loop(ev::test::loop_options());
  NatPort nat(loop, default_options());
  Collect sink;
  nat.set_sink(&sink);
  REQUIRE(nat.start());
  static constexpr uint8_t kOther[6] = {0x52, 0x54, 0x00, 0x99, 0x99, 0x99};
  send(nat, arp_request("10.0.2.2", kOther));
  static constexpr uint8_t kNatMac[6] = {0x52, 0x55, 10, 0, 2, 2};
  send(nat, arp_request("10.0.2.2", kNatMac));
  Bytes runt(10, 0xff);
  iovec iov{runt.data(), runt.size()};
  port::Frame fr{&iov, 1, 10};
  nat.send_burst(std::span<const port::Frame>(&fr, 1));
  NatPortStats s = nat.stats();
  CHECK(s.in_not_ours == 1);
  CHECK(s.in_drop_bad == 1);
  CHECK(s.in_frames == 1);
  CHECK(sink.frames.size() == 1);
}

TEST_CASE("nat: forwards are added, refused when they overlap or cannot bind, and removed") {
  ev::EventLoop loop(ev::test::loop_options());
  NatPort nat(loop, default_options());
  REQUIRE(nat.start());
  const uint16_t p = free_port();
  REQUIRE(nat.add_forward(tcp_fwd("127.0.0.1", p, 22)));
  REQUIRE(nat.forwards().size() == 1);
  CHECK(nat.forwards()[0].to_string() == "tcp:127.0.0.1:" + std::to_string(p) + "-10.0.2.15:22");

  NatStatus st = nat.add_forward(tcp_fwd("0.0.0.0", p, 23));  // the wildcard covers 127.0.0.1
  CHECK(st.code == NatErrc::kOverlap);
  CHECK(st.message.find("overlaps") != std::string::npos);
  NatForward udp = tcp_fwd("127.0.0.1", p, 53);
  udp.udp = true;
  CHECK(nat.add_forward(udp));  // another protocol: no overlap

  // A port held by another socket: the bind fails and nothing is recorded.
  int holder = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr = ip("127.0.0.1");
  socklen_t len = sizeof a;
  REQUIRE(bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(listen(holder, 1) == 0);
  getsockname(holder, reinterpret_cast<sockaddr*>(&a), &len);
  st = nat.add_forward(tcp_fwd("127.0.0.1", ntohs(a.sin_port), 22));
  CHECK(st.code == NatErrc::kBind);
  CHECK(st.message.find("Address already in use") != std::string::npos);
  close(holder);
  CHECK(nat.forwards().size() == 2);

  NatForward outside = tcp_fwd("127.0.0.1", free_port(), 22);
  outside.guest = ip("192.168.1.1");
  CHECK(nat.add_forward(outside).code == NatErrc::kBadOption);

  CHECK(nat.remove_forward(tcp_fwd("127.0.0.1", p, 0)));
  CHECK(nat.remove_forward(tcp_fwd("127.0.0.1", p, 0)).code == NatErrc::kNotFound);
  CHECK(nat.forwards().size() == 1);
  // The host port is free again.
  int again = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_port = htons(p);
  CHECK(bind(again, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  close(again);
}

TEST_CASE("nat: a start-up forward that cannot bind fails start() and leaves nothing") {
  ev::EventLoop loop(ev::test::loop_options());
  NatPortOptions o = default_options();
  const uint16_t p = free_port();
  o.hostfwd.push_back(tcp_fwd("127.0.0.1", p, 22));
  o.hostfwd.push_back(tcp_fwd("127.0.0.1", p, 23));
  NatPort nat(loop, o);
  NatStatus st = nat.start();
  CHECK(st.code == NatErrc::kOverlap);
  CHECK(nat.state() == port::PortState::kDown);
  CHECK(nat.stats().registered_fds == 0);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr = ip("127.0.0.1");
  a.sin_port = htons(p);
  CHECK(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  close(s);
}

TEST_CASE("nat: idle, the NAT runs no passes and arms no tick") {
  ev::EventLoop loop(ev::test::loop_options());
  NatPort nat(loop, default_options());
  REQUIRE(nat.start());
  run_until(loop, [] { return false; }, 50);  // the start-up pass
  const uint64_t passes = nat.stats().passes;
  run_until(loop, [] { return false; }, 300);
  CHECK(nat.stats().passes == passes);
}

TEST_CASE("nat: a connection to a forward's host port reaches the guest side on its own") {
  ev::EventLoop loop(ev::test::loop_options());
  NatPort nat(loop, default_options());
  Collect sink;
  nat.set_sink(&sink);
  REQUIRE(nat.start());
  const uint16_t p = free_port();
  REQUIRE(nat.add_forward(tcp_fwd("127.0.0.1", p, 22)));
  run_until(loop, [] { return false; }, 20);
  int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr = ip("127.0.0.1");
  a.sin_port = htons(p);
  connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
  // libslirp accepts through the loop's fd handler and, not knowing the guest's MAC yet, asks
  // for it: an ARP who-has 10.0.2.15, broadcast, with no frame from the guest at all.
  const bool asked = run_until(loop, [&] {
    for (const Bytes& f : sink.frames) {
      if (f.size() >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 && f[38] == 10 &&
          f[41] == 15) {
        return true;
      }
    }
    return false;
  });
  CHECK(asked);
  CHECK(nat.stats().tcp_open >= 1);
  close(c);
}

}  // namespace uvs::slirpglue
