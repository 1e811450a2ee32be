// SPDX-License-Identifier: MIT
// SocketEndpoint and its start-up calls: the one backoff formula, the stale-socket rule every
// socket port binds by, and each role handing one connection at a time to its port.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "netback/common/socket_endpoint.h"
#include "tests/netback_io/io_test_util.h"

using namespace uvs;
using namespace uvs::netback;
using namespace uvs::netback::test;

namespace {

struct Recorder final : EndpointListener {
  std::vector<int> fds;
  void endpoint_connected(int fd, const SocketAddress&) noexcept override { fds.push_back(fd); }
};

SocketAddress unix_at(const std::string& path) { return unix_address(path, "path").addr; }

}  // namespace

TEST_CASE("endpoint: reconnect delays double from the first up to the cap") {
  ReconnectBackoff b(100, 1000);
  CHECK(b.valid());
  std::vector<int64_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(b.next());
  CHECK(got == std::vector<int64_t>{100, 200, 400, 800, 1000, 1000});
  b.reset();
  CHECK(b.next() == 100);
  // Near the top of int64_t the doubling saturates instead of overflowing.
  ReconnectBackoff big(INT64_MAX / 2 + 1, INT64_MAX);
  big.next();
  CHECK(big.next() == INT64_MAX);
  CHECK(!ReconnectBackoff(0, 10).valid());
  CHECK(!ReconnectBackoff(10, 5).valid());
}

TEST_CASE("endpoint: a unix path is taken over only from a stale socket") {
  ScratchDir dir;
  const std::string path = dir.file("s.sock");
  SocketResult live = bind_socket(unix_at(path), SOCK_STREAM, 1);
  REQUIRE(live.status);
  // Live stream listener and live datagram socket: both refused, both left in place.
  SocketResult again = bind_socket(unix_at(path), SOCK_STREAM, 1);
  CHECK(again.status.code == NetbackError::kPathInUse);
  CHECK(again.status.message.find("live listener") != std::string::npos);
  const std::string dpath = dir.file("d.sock");
  SocketResult dgram = bind_socket(unix_at(dpath), SOCK_DGRAM, 0);
  REQUIRE(dgram.status);
  CHECK(bind_socket(unix_at(dpath), SOCK_DGRAM, 0).status.code == NetbackError::kPathInUse);
  // Once the owner is gone the socket file is stale and replaced.
  close(live.fd);
  close(dgram.fd);
  SocketResult taken = bind_socket(unix_at(path), SOCK_STREAM, 1);
  REQUIRE(taken.status);
  close(taken.fd);
  SocketResult dtaken = bind_socket(unix_at(dpath), SOCK_DGRAM, 0);
  REQUIRE(dtaken.status);
  close(dtaken.fd);
}

TEST_CASE("endpoint: a listener hands out one peer at a time, a client reconnects") {
  ev::EventLoop loop(loop_options());
  ScratchDir dir;
  const std::string path = dir.file("e.sock");
  Recorder server_side;
  Recorder client_side;
  {
    SocketEndpoint server(loop, &server_side);
    EndpointOptions so;
    so.name = "srv";
    so.role = EndpointRole::kListen;
    so.address = unix_at(path);
    REQUIRE(server.start(so));
    CHECK(server.local_address() == path);

    SocketEndpoint client(loop, &client_side);
    EndpointOptions co;
    co.name = "cli";
    co.role = EndpointRole::kConnect;
    co.address = unix_at(path);
    co.reconnect_min_ns = 5'000'000;
    co.reconnect_max_ns = 20'000'000;
    REQUIRE(client.start(co));
    REQUIRE(client_side.fds.size() == 1);  // a unix connect completes at once
    REQUIRE(run_until(loop, [&] { return server_side.fds.size() == 1; }));

    // The client's connection ends: it reconnects after the backoff delay and waits in the
    // backlog while the server still serves its first peer.
    close(client_side.fds[0]);
    client.connection_ended();
    REQUIRE(run_until(loop, [&] { return client_side.fds.size() == 2; }));
    loop.run_once(false);
    CHECK(server_side.fds.size() == 1);
    close(server_side.fds[0]);
    server.connection_ended();
    REQUIRE(run_until(loop, [&] { return server_side.fds.size() == 2; }));
    close(server_side.fds[1]);
    close(client_side.fds[1]);
  }
  CHECK(access(path.c_str(), F_OK) != 0);  // the listener's path goes with it
}

TEST_CASE("endpoint: bad delays and an inherited fd of the wrong kind are refused") {
  ev::EventLoop loop(loop_options());
  Recorder r;
  SocketEndpoint ep(loop, &r);
  EndpointOptions o;
  o.name = "p0";
  o.role = EndpointRole::kConnect;
  o.address = unix_at("/tmp/never-there.sock");
  o.reconnect_min_ns = 0;
  Status st = ep.start(o);
  CHECK(st.code == NetbackError::kInvalidOption);
  CHECK(st.message == "p0: bad reconnect delays");

  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  SocketEndpoint ep2(loop, &r);
  EndpointOptions a;
  a.name = "p1";
  a.role = EndpointRole::kAdoptListening;
  a.fd = sv[0];
  st = ep2.start(a);
  CHECK(st.code == NetbackError::kInvalidOption);
  CHECK(st.message.find("is not listening") != std::string::npos);
  CHECK(r.fds.empty());
  close(sv[1]);
}
