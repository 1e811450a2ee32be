// SPDX-License-Identifier: MIT
// DgramPort against real kernel sockets: two ports on 127.0.0.1 (and over unix datagram
// sockets) exchanging frames, oversize and runt datagrams, and option checking.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "netback/host/dgram_port.h"
#include "tests/netback_io/io_test_util.h"

using namespace uvs;
using namespace uvs::netback;
using namespace uvs::netback::test;

namespace {

/// A UDP port on 127.0.0.1 that was free a moment ago (bound, read back, released).
uint16_t free_udp_port() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  close(fd);
  return ntohs(sa.sin_port);
}

std::unique_ptr<DgramPort> make_udp(ev::EventLoop& loop, const std::string& name,
                                    uint16_t local, uint16_t remote) {
  DgramPortOptions o;
  o.name = name;
  o.local = "127.0.0.1:" + std::to_string(local);
  o.remote = "127.0.0.1:" + std::to_string(remote);
  return std::make_unique<DgramPort>(loop, o);
}

/// Two started UDP ports on 127.0.0.1, a -> b and b -> a, with b's frames collected.
struct UdpPair {
  ev::EventLoop loop{loop_options()};
  uint16_t pa = free_udp_port();
  uint16_t pb = free_udp_port();
  std::unique_ptr<DgramPort> a = make_udp(loop, "a", pa, pb);
  std::unique_ptr<DgramPort> b = make_udp(loop, "b", pb, pa);
  CollectSink at_b;
  UdpPair() {
    b->set_sink(&at_b);
    REQUIRE(a->start().ok());
    REQUIRE(b->start().ok());
  }
};

/// Sends `bufs` from `tx` (a burst at a time, retrying refusals) and checks `rx` got them all,
/// intact; loopback UDP keeps order on one socket pair.
void exchange(ev::EventLoop& loop, DgramPort& tx, CollectSink& rx,
              const std::vector<std::vector<uint8_t>>& bufs, uint32_t pieces) {
  size_t before = rx.frames.size();
  FrameList list(bufs, pieces);
  // Small bursts with the loop running between them so the receiver drains its socket buffer.
  size_t next = 0;
  int64_t deadline = ev::now_ns() + 10'000'000'000;
  while (next < list.size() && ev::now_ns() < deadline) {
    next += tx.send_burst(list.from(next, 8));
    run_until(loop, [&] { return rx.frames.size() >= before + next; }, 1'000'000'000);
  }
  CHECK(next == bufs.size());
  REQUIRE(run_until(loop, [&] { return rx.frames.size() >= before + bufs.size(); }));
  REQUIRE(rx.frames.size() == before + bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) {
    INFO("frame " << i << " of " << bufs[i].size() << " bytes");
    CHECK(rx.frames[before + i] == bufs[i]);
  }
}

}  // namespace

TEST_CASE("dgram: two ports on 127.0.0.1 exchange frames intact") {
  ev::EventLoop loop(loop_options());
  uint16_t pa = free_udp_port();
  uint16_t pb = free_udp_port();
  auto a = make_udp(loop, "a", pa, pb);
  auto b = make_udp(loop, "b", pb, pa);
  CollectSink at_a;
  CollectSink at_b;
  a->set_sink(&at_a);
  b->set_sink(&at_b);
  REQUIRE(a->start().ok());
  REQUIRE(b->start().ok());
  CHECK(a->state() == port::PortState::kUp);
  CHECK(a->local_address() == "127.0.0.1:" + std::to_string(pa));

  std::vector<std::vector<uint8_t>> bufs;
  uint32_t seq = 0;
  // Up to the largest UDP payload over IPv4 (65535 - 20 - 8).
  for (uint32_t len : {14u, 15u, 60u, 64u, 1500u, 1514u, 1518u, 9000u, 32768u, 65507u}) {
    bufs.push_back(pattern_frame(seq++, len));
  }
  for (int i = 0; i < 100; ++i) bufs.push_back(pattern_frame(seq++, 60 + uint32_t(i) * 13));
  exchange(loop, *a, at_b, bufs, 1);
  exchange(loop, *b, at_a, bufs, 3);
  CHECK(at_b.last_from == b.get());
  CHECK(a->stats().out_frames == bufs.size());
  CHECK(b->stats().in_frames == bufs.size());
  CHECK(b->stats().in_bytes == a->stats().out_bytes);

  // A burst arriving at once comes out of one recvmmsg as one burst.
  std::vector<std::vector<uint8_t>> burst;
  for (uint32_t i = 0; i < port::kMaxBurst; ++i) burst.push_back(pattern_frame(500 + i, 100));
  FrameList bl(burst);
  size_t before_bursts = at_b.bursts;
  CHECK(a->send_burst(bl.all()) == port::kMaxBurst);
  REQUIRE(run_until(loop, [&] { return at_b.frames.size() == bufs.size() + 32; }));
  CHECK(at_b.bursts - before_bursts <= 2);
  CHECK(at_b.max_burst >= 16);
}

TEST_CASE("dgram: oversize frames are dropped on send, runts on receive") {
  UdpPair pair;
  auto& [loop, pa, pb, a, b, at_b] = pair;

  // 65508 bytes do not fit a UDP/IPv4 datagram: taken and dropped; the frames around it pass.
  std::vector<std::vector<uint8_t>> bufs{pattern_frame(1, 100), pattern_frame(2, 65508),
                                         pattern_frame(3, port::kMaxFrameLen),
                                         pattern_frame(4, 200)};
  FrameList list(bufs);
  CHECK(a->send_burst(list.all()) == 4);
  REQUIRE(run_until(loop, [&] { return at_b.frames.size() == 2; }));
  CHECK(at_b.frames[0] == bufs[0]);
  CHECK(at_b.frames[1] == bufs[3]);
  CHECK(a->stats().out_drop_too_big == 2);

  // A raw sender's 10-byte datagram is no Ethernet frame. It sends from where c's remote
  // points, or c would drop both datagrams as foreign.
  int raw = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(raw, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
  socklen_t flen = sizeof from;
  getsockname(raw, reinterpret_cast<sockaddr*>(&from), &flen);
  const uint16_t pc = free_udp_port();
  auto c = make_udp(loop, "c", pc, ntohs(from.sin_port));
  CollectSink at_c;
  c->set_sink(&at_c);
  REQUIRE(c->start().ok());
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(pc);
  uint8_t runt[10] = {};
  CHECK(sendto(raw, runt, sizeof runt, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 10);
  auto ok = pattern_frame(5, 64);
  CHECK(sendto(raw, ok.data(), ok.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) == 64);
  close(raw);
  REQUIRE(run_until(loop, [&] { return at_c.frames.size() == 1; }));
  CHECK(at_c.frames[0] == ok);
  CHECK(c->stats().in_drop_too_short == 1);
  CHECK(c->stats().in_drop_foreign == 0);
}

// Sends `frame` to 127.0.0.1:`to_port` from a fresh socket bound to 127.0.0.1:`from_port`
// (0: the kernel picks).
void send_from(uint16_t from_port, uint16_t to_port, const std::vector<uint8_t>& frame) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons(from_port);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  sa.sin_port = htons(to_port);
  CHECK(sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) ==
        ssize_t(frame.size()));
  close(fd);
}

TEST_CASE("dgram: datagrams from anyone but the remote are counted and not forwarded") {
  UdpPair pair;
  auto& [loop, pa, pb, a, b, at_b] = pair;

  // Same host, other ports: an unprivileged local user could do exactly this.
  for (uint32_t i = 0; i < 20; ++i) send_from(0, pb, pattern_frame(900 + i, 80));
  send_from(free_udp_port(), pb, pattern_frame(999, 80));
  std::vector<std::vector<uint8_t>> goods{pattern_frame(1, 100)};
  const std::vector<uint8_t>& good = goods[0];
  FrameList list(goods);
  REQUIRE(a->send_burst(list.all()) == 1);
  REQUIRE(run_until(loop, [&] { return at_b.frames.size() == 1 && b->stats().in_drop_foreign == 21; }));
  run_until(loop, [] { return false; }, 50'000'000);
  CHECK(at_b.frames.size() == 1);
  CHECK(at_b.frames[0] == good);
  CHECK(b->stats().in_drop_foreign == 21);
  CHECK(b->stats().in_frames == 1);
}

TEST_CASE("dgram: unix datagram sockets exchange frames; a missing peer refuses") {
  ev::EventLoop loop(loop_options());
  ScratchDir dir;
  DgramPortOptions oa;
  oa.name = "ua";
  oa.local_path = dir.file("a.sock");
  oa.remote_path = dir.file("b.sock");
  DgramPortOptions ob;
  ob.name = "ub";
  ob.local_path = dir.file("b.sock");
  ob.remote_path = dir.file("a.sock");
  DgramPort a(loop, oa);
  REQUIRE(a.start().ok());
  // b is not bound yet: sends are refused (the caller counts them), nothing breaks.
  std::vector<std::vector<uint8_t>> one{pattern_frame(1, 60)};
  FrameList fl(one);
  CHECK(a.send_burst(fl.all()) == 0);
  CHECK(a.stats().out_drop_error == 1);
  CHECK(a.state() == port::PortState::kUp);

  DgramPort b(loop, ob);
  CollectSink at_a;
  CollectSink at_b;
  a.set_sink(&at_a);
  b.set_sink(&at_b);
  REQUIRE(b.start().ok());
  std::vector<std::vector<uint8_t>> bufs;
  for (uint32_t i = 0; i < 40; ++i) bufs.push_back(pattern_frame(i, 14 + i * 1500));
  bufs.push_back(pattern_frame(99, port::kMaxFrameLen));  // unix datagrams carry the largest
  exchange(loop, a, at_b, bufs, 2);
  exchange(loop, b, at_a, bufs, 1);

  // Another local process bound elsewhere (and one not bound at all) is not the remote.
  const size_t got = at_b.frames.size();
  DgramPortOptions oc;
  oc.name = "uc";
  oc.local_path = dir.file("c.sock");
  oc.remote_path = dir.file("b.sock");
  DgramPort c(loop, oc);
  REQUIRE(c.start().ok());
  CHECK(c.send_burst(fl.all()) == 1);
  DgramPortOptions od;
  od.name = "ud";
  od.remote_path = dir.file("b.sock");
  DgramPort d(loop, od);
  REQUIRE(d.start().ok());
  CHECK(d.send_burst(fl.all()) == 1);
  REQUIRE(run_until(loop, [&] { return b.stats().in_drop_foreign == 2; }));
  CHECK(at_b.frames.size() == got);
}

TEST_CASE("dgram: bad options are refused at start") {
  ev::EventLoop loop(loop_options());
  auto start = [&](DgramPortOptions o) { return DgramPort(loop, std::move(o)).start(); };
  DgramPortOptions o;
  CHECK(start(o).code == NetbackError::kInvalidOption);  // no remote
  o.remote = "127.0.0.1:0";
  CHECK(start(o).code == NetbackError::kInvalidOption);  // remote needs a port
  o.remote = "127.0.0.1:5000";
  o.local = "[::1]:5001";
  CHECK(start(o).code == NetbackError::kInvalidOption);  // mixed IP versions
  o.local = "127.0.0.1:5001";
  o.remote_path = "/tmp/x";
  CHECK(start(o).code == NetbackError::kInvalidOption);  // UDP and unix mixed
  o = DgramPortOptions{};
  o.remote = "host:1";
  Status st = start(o);
  CHECK(st.code == NetbackError::kInvalidOption);
  CHECK(st.message.find("remote") != std::string::npos);
  // A UDP port that is taken cannot be bound.
  int busy = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(busy, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  socklen_t len = sizeof sa;
  getsockname(busy, reinterpret_cast<sockaddr*>(&sa), &len);
  o = DgramPortOptions{};
  o.local = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
  o.remote = "127.0.0.1:9";
  st = start(o);
  CHECK(st.code == NetbackError::kSocket);
  CHECK(st.err == EADDRINUSE);
  close(busy);
}
