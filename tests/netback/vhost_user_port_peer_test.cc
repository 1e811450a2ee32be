// SPDX-License-Identifier: MIT
// VhostUserNetPort against misbehaving peers (a bad message or descriptor breaks only its own
// port) and in each socket role: server, client with reconnect, inherited fds.
#include "tests/netback/vhost_user_port_fixture.h"

using namespace uvs;
using namespace uvs::netback;
using namespace uvs::netback::test;

TEST_CASE("misbehaving peer: a descriptor outside guest memory breaks only that port") {
  BadGoodPorts t;
  CollectSink &sink_b = t.sink_b;
  VhostUserNetPort &a = *t.a, &b = *t.b;
  Frontend &fa = *t.fa, &fb = *t.fb;
  fa.bring_up(kBasic);
  fb.bring_up(kBasic);

  fa.tx.set_desc(0, 0xdead0000000ull, 64, 0);  // nowhere
  fa.tx.publish(0);
  fa.kick_tx();
  CHECK(a.state() == port::PortState::kBroken);
  CHECK(fa.peer_closed());
  CHECK(a.stats().protocol_errors == 1);
  CHECK(a.send_burst({}) == 0);

  fb.post_tx(test_frame(60, 1), false);
  fb.kick_tx();
  CHECK(sink_b.frames.size() == 1);
  CHECK(b.state() == port::PortState::kUp);
}

TEST_CASE("misbehaving peer: a device-readable RX buffer breaks the port") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  f.fe->rx.add_chain({{2048, false}});
  auto a = test_frame(60, 1);
  iovec ia{a.data(), a.size()};
  port::Frame fr{&ia, 1, 60};
  CHECK(f.port->send_burst({&fr, 1}) == 0);
  CHECK(f.port->state() == port::PortState::kBroken);
  CHECK(f.fe->peer_closed());
}

TEST_CASE("misbehaving peer: malformed messages break the port and close the connection") {
  SUBCASE("wrong payload size") {
    PortFixture f;
    uint32_t four = 0;
    f.fe->send(R::kSetFeatures, &four, 4);
    CHECK(f.fe->peer_closed());
    CHECK(f.port->state() == port::PortState::kBroken);
  }
  SUBCASE("vring index out of range") {
    PortFixture f;
    vu::VringState s{7, 256};
    f.fe->send(R::kSetVringNum, &s, sizeof s);
    CHECK(f.fe->peer_closed());
  }
  SUBCASE("unoffered features") {
    PortFixture f;
    // Not offered: UFO never, the checksum offloads not without `offloads`.
    f.fe->set_u64(R::kSetFeatures, virtio::feature_bit(feat::kNetCsum));
    CHECK(f.fe->peer_closed());
  }
  SUBCASE("kick before ring addresses") {
    PortFixture f;
    f.fe->set_u64(R::kSetVringKick, 1, {f.fe->kick[1]});
    CHECK(f.fe->peer_closed());
  }
  SUBCASE("ring addresses outside guest memory") {
    PortFixture f;
    f.fe->set_u64(R::kSetFeatures, kBasic);
    vu::VringState num{1, 16};
    f.fe->send(R::kSetVringNum, &num, sizeof num);
    vu::VringAddr a{1, 0, 0x1000, 0x2000, 0x3000, 0};
    f.fe->send(R::kSetVringAddr, &a, sizeof a);
    f.fe->set_u64(R::kSetVringKick, 1, {f.fe->kick[1]});
    CHECK(f.fe->peer_closed());
  }
  SUBCASE("SET_LOG_BASE without LOG_SHMFD negotiated") {
    PortFixture f;
    int log = memfd_create("uvs-test-log", MFD_CLOEXEC);
    REQUIRE(ftruncate(log, 4096) == 0);
    vu::LogDescription d{4096, 0};
    f.fe->send(R::kSetLogBase, &d, sizeof d, {log});
    close(log);
    CHECK(f.fe->peer_closed());
    CHECK(f.port->state() == port::PortState::kBroken);
  }
  SUBCASE("peer hangs up mid-message: disconnect, not broken") {
    PortFixture f;
    vu::VhostUserHeader h{2, vu::kFlagVersion, 8};
    REQUIRE(write(f.fe->sock, &h, 6) == 6);
    shutdown(f.fe->sock, SHUT_WR);
    f.fe->pump(6);
    CHECK(f.port->state() == port::PortState::kDown);
    CHECK(!f.port->connected());
  }
}

TEST_CASE("server role: one frontend at a time, the next one after it leaves") {
  std::string path = "/tmp/uvs-nb-test-" + std::to_string(getpid()) + ".sock";
  ev::EventLoop loop;
  VhostUserNetOptions o;
  o.role = SocketRole::kServer;
  o.socket_path = path;
  {
    auto port = std::make_unique<VhostUserNetPort>(loop, o);
    REQUIRE(port->start());
    int c1 = connect_unix(path);
    REQUIRE(c1 >= 0);
    Frontend f1(loop, c1);
    f1.pump();
    CHECK(port->connected());
    CHECK(f1.get_u64(R::kGetQueueNum) == 1);
    int c2 = connect_unix(path);  // waits in the backlog
    REQUIRE(c2 >= 0);
    close(f1.sock);
    f1.sock = -1;
    Frontend f2(loop, c2);
    f2.pump(8);
    CHECK(f2.get_u64(R::kGetQueueNum) == 1);
    CHECK(port->stats().connections == 2);
  }
  CHECK(access(path.c_str(), F_OK) != 0);  // removed on destruction

  // A regular file at the path is never replaced.
  FILE* fp = fopen(path.c_str(), "w");
  fclose(fp);
  VhostUserNetPort p2(loop, o);
  Status s = p2.start();
  CHECK(!s);
  CHECK(s.code == NetbackError::kPathInUse);
  unlink(path.c_str());
}

TEST_CASE("client role: connects when the frontend appears and reconnects after it leaves") {
  std::string path = "/tmp/uvs-nb-client-" + std::to_string(getpid()) + ".sock";
  ev::EventLoop loop;
  VhostUserNetOptions o;
  o.role = SocketRole::kClient;
  o.socket_path = path;
  o.reconnect_min_ns = 10'000'000;
  o.reconnect_max_ns = 40'000'000;
  VhostUserNetPort port(loop, o);
  REQUIRE(port.start());  // nobody listening yet: keeps retrying
  CHECK(!port.connected());
  SocketResult l = listen_unix(path);
  REQUIRE(l.status);
  auto accept_within = [&](int64_t ns) {
    int64_t end = ev::now_ns() + ns;
    while (ev::now_ns() < end) {
      loop.run_once(false);
      int fd = accept_unix(l.fd);
      if (fd >= 0) return fd;
      usleep(1000);
    }
    return -1;
  };
  int c = accept_within(1'000'000'000);
  REQUIRE(c >= 0);
  {
    Frontend f(loop, c);
    f.pump();
    CHECK(port.connected());
    CHECK(f.get_u64(R::kGetQueueNum) == 1);
  }  // frontend goes away
  int c2 = accept_within(1'000'000'000);
  REQUIRE(c2 >= 0);
  Frontend f2(loop, c2);
  f2.pump();
  CHECK(f2.get_u64(R::kGetQueueNum) == 1);
  CHECK(port.stats().connections == 2);
  close(l.fd);
  unlink(path.c_str());
}

TEST_CASE("start() validates options") {
  ev::EventLoop loop;
  VhostUserNetOptions o;
  o.queue_pairs = 0;
  o.socket_path = "/tmp/x.sock";
  CHECK(!VhostUserNetPort(loop, o).start());
  o.queue_pairs = 1;
  o.socket_path = std::string(200, 'x');
  CHECK(VhostUserNetPort(loop, o).start().code == NetbackError::kInvalidOption);
  o.role = SocketRole::kFd;
  o.fd = -1;
  CHECK(!VhostUserNetPort(loop, o).start());
}

TEST_CASE("listen-fd role: an inherited listener serves frontends one after another") {
  std::string path = "/tmp/uvs-nb-lfd-" + std::to_string(getpid()) + ".sock";
  SocketResult l = listen_unix(path);
  REQUIRE(l.status);
  CHECK(socket_is_listening(l.fd) == 1);
  ev::EventLoop loop;
  VhostUserNetOptions o;
  o.role = SocketRole::kListenFd;
  o.fd = l.fd;
  {
    VhostUserNetPort port(loop, o);
    REQUIRE(port.start());
    for (int round = 0; round < 2; ++round) {
      int c = connect_unix(path);
      REQUIRE(c >= 0);
      Frontend f(loop, c);
      f.pump(8);
      CHECK(port.connected());
      CHECK(f.get_u64(R::kGetQueueNum) == 1);
    }  // each frontend leaves; the listener takes the next
    CHECK(port.stats().connections == 2);
  }
  // The socket file belongs to whoever made the listener: the port closes the fd only.
  CHECK(access(path.c_str(), F_OK) == 0);
  unlink(path.c_str());
}

TEST_CASE("inherited fds: the role must match what the socket is") {
  ev::EventLoop loop;
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  CHECK(socket_is_listening(sv[0]) == 0);
  VhostUserNetOptions o;
  o.role = SocketRole::kListenFd;
  o.fd = sv[0];  // connected, not listening: refused, and closed by the port
  Status s = VhostUserNetPort(loop, o).start();
  CHECK(s.code == NetbackError::kInvalidOption);
  CHECK(s.message.find("is not listening") != std::string::npos);
  close(sv[1]);

  int efd = eventfd(0, EFD_CLOEXEC);
  CHECK(socket_is_listening(efd) == -ENOTSOCK);
  o.role = SocketRole::kFd;
  o.fd = efd;
  CHECK(VhostUserNetPort(loop, o).start().code == NetbackError::kInvalidOption);
  CHECK(socket_is_listening(-1) == -EBADF);
}
