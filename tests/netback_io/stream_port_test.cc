// SPDX-License-Identifier: MIT
// StreamPort against real kernel sockets: a server/client pair over unix and TCP, a raw socket
// peer that feeds bytes one at a time, malformed length prefixes, back-pressure through the
// pending buffer, and client reconnection after a server restart.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "netback/host/stream_port.h"
#include "tests/netback_io/io_test_util.h"

using namespace uvs;
using namespace uvs::netback;
using namespace uvs::netback::test;

namespace {

std::unique_ptr<StreamPort> make_port(ev::EventLoop& loop, const std::string& name,
                                      StreamRole role, const std::string& path,
                                      const std::string& addr = "") {
  StreamPortOptions o;
  o.name = name;
  o.path = path;
  o.addr = addr;
  o.role = role;
  o.reconnect_min_ns = 10'000'000;
  o.reconnect_max_ns = 40'000'000;
  return std::make_unique<StreamPort>(loop, o);
}

/// A plain blocking unix or TCP socket playing the other end, with its own framing code.
struct RawPeer {
  int fd = -1;
  explicit RawPeer(const std::string& path) {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      close(fd);
      fd = -1;
    }
  }
  ~RawPeer() {
    if (fd >= 0) close(fd);
  }
  bool write_all(const void* p, size_t n) const {
    auto* b = static_cast<const uint8_t*>(p);
    while (n) {
      ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      b += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  static std::vector<uint8_t> framed(const std::vector<uint8_t>& f) {
    std::vector<uint8_t> out(4 + f.size());
    uint32_t be = htonl(static_cast<uint32_t>(f.size()));
    std::memcpy(out.data(), &be, 4);
    std::memcpy(out.data() + 4, f.data(), f.size());
    return out;
  }
  /// Whether the port closed the connection (EOF) within `ms`, discarding anything it sent.
  bool sees_eof(int ms) const {
    pollfd p{fd, POLLIN, 0};
    int64_t deadline = ev::now_ns() + int64_t(ms) * 1'000'000;
    while (ev::now_ns() < deadline) {
      if (poll(&p, 1, 10) == 1) {
        uint8_t b[4096];
        ssize_t r = recv(fd, b, sizeof b, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno == ECONNRESET)) return true;
      }
    }
    return false;
  }
};

/// Runs `loop` until `sink` holds `n` frames.
bool wait_frames(ev::EventLoop& loop, const CollectSink& sink, size_t n,
                 int64_t timeout_ns = 10'000'000'000) {
  return run_until(loop, [&] { return sink.frames.size() >= n; }, timeout_ns);
}

/// Frame sizes from the smallest Ethernet frame to the largest the port interface allows.
std::vector<uint32_t> interesting_sizes() {
  return {14, 15, 59, 60, 64, 127, 128, 1000, 1499, 1500, 1514, 1518, 4096, 9000, 9018,
          16384, 32768, 65000, 65535, 65535 + 14, port::kMaxFrameLen};
}

/// Sends `bufs` from `tx` and checks that `rx_sink` receives exactly them, in order.
void exchange(ev::EventLoop& loop, StreamPort& tx, CollectSink& rx_sink,
              const std::vector<std::vector<uint8_t>>& bufs, uint32_t pieces) {
  size_t before = rx_sink.frames.size();
  FrameList list(bufs, pieces);
  CHECK(send_all(loop, tx, list) == bufs.size());
  REQUIRE(wait_frames(loop, rx_sink, before + bufs.size()));
  CHECK(rx_sink.frames.size() == before + bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) {
    INFO("frame " << i << " of " << bufs[i].size() << " bytes");
    CHECK(rx_sink.frames[before + i] == bufs[i]);
  }
}

struct Pair {
  ev::EventLoop& loop;
  std::unique_ptr<StreamPort> server;
  std::unique_ptr<StreamPort> client;
  CollectSink at_server;
  CollectSink at_client;

  Pair(ev::EventLoop& l, const std::string& path, const std::string& addr) : loop(l) {
    server = make_port(loop, "srv", StreamRole::kServer, path, addr);
    server->set_sink(&at_server);
    REQUIRE(server->start().ok());
    std::string target = addr.empty() ? "" : server->local_address();
    client = make_port(loop, "cli", StreamRole::kClient, path, target);
    client->set_sink(&at_client);
    REQUIRE(client->start().ok());
    REQUIRE(run_until(loop, [&] { return server->connected() && client->connected(); }));
  }
};

void run_pair_exchange(Pair& p) {
  CHECK(p.server->state() == port::PortState::kUp);
  CHECK(p.client->state() == port::PortState::kUp);
  std::vector<std::vector<uint8_t>> bufs;
  uint32_t seq = 0;
  for (uint32_t len : interesting_sizes()) bufs.push_back(pattern_frame(seq++, len));
  // Many small frames: several full bursts, so frames from one read are delivered in bursts.
  for (int i = 0; i < 200; ++i) bufs.push_back(pattern_frame(seq++, 60 + uint32_t(i % 7) * 200));
  SUBCASE("client to server, one segment per frame") { exchange(p.loop, *p.client, p.at_server, bufs, 1); }
  SUBCASE("server to client, scattered frames") { exchange(p.loop, *p.server, p.at_client, bufs, 3); }
  SUBCASE("both ways") {
    exchange(p.loop, *p.client, p.at_server, bufs, 2);
    exchange(p.loop, *p.server, p.at_client, bufs, 5);
    CHECK(p.at_server.last_from == p.server.get());
    CHECK(p.at_client.last_from == p.client.get());
  }
  auto s = p.server->stats();
  CHECK(s.protocol_errors == 0);
  CHECK(s.connections == 1);
}

}  // namespace

TEST_CASE("stream: unix server and client exchange frames of every size intact and in order") {
  ev::EventLoop loop(loop_options());
  ScratchDir dir;
  Pair p(loop, dir.file("s.sock"), "");
  run_pair_exchange(p);
  auto cs = p.client->stats();
  auto ss = p.server->stats();
  CHECK(ss.in_frames + cs.in_frames >= 221);
  CHECK(ss.out_drop_bad_frame == 0);
  CHECK(cs.out_drop_bad_frame == 0);
}

TEST_CASE("stream: TCP server and client on 127.0.0.1 exchange frames") {
  ev::EventLoop loop(loop_options());
  Pair p(loop, "", "127.0.0.1:0");
  CHECK(p.server->local_address().rfind("127.0.0.1:", 0) == 0);
  CHECK(p.server->local_address() != "127.0.0.1:0");
  run_pair_exchange(p);
}

TEST_CASE("stream: frames split at every byte are reassembled") {
  ev::EventLoop loop(loop_options());
  ScratchDir dir;
  auto server = make_port(loop, "srv", StreamRole::kServer, dir.file("s.sock"));
  CollectSink sink;
  server->set_sink(&sink);
  REQUIRE(server->start().ok());
  RawPeer peer(dir.file("s.sock"));
  REQUIRE(peer.fd >= 0);
  REQUIRE(run_until(loop, [&] { return server->connected(); }));

  std::vector<std::vector<uint8_t>> sent = {pattern_frame(1, 14), pattern_frame(2, 300),
                                            pattern_frame(3, 1514)};
  std::vector<uint8_t> wire;
  for (const auto& f : sent) {
    auto w = RawPeer::framed(f);
    wire.insert(wire.end(), w.begin(), w.end());
  }
  // One byte per write, and the loop runs after each: every prefix and frame boundary falls
  // inside a read at some point.
  for (size_t i = 0; i < wire.size(); ++i) {
    REQUIRE(peer.write_all(&wire[i], 1));
    loop.run_once(false);
    size_t expect = 0;
    size_t end = 0;
    for (const auto& f : sent) {
      end += 4 + f.size();
      if (end <= i + 1) ++expect;
    }
    if (sink.frames.size() != expect) {
      // The byte may not have been read yet in this iteration; give the loop a moment.
      run_until(loop, [&] { return sink.frames.size() == expect; }, 1'000'000'000);
    }
    REQUIRE(sink.frames.size() == expect);
  }
  REQUIRE(sink.frames.size() == sent.size());
  for (size_t i = 0; i < sent.size(); ++i) CHECK(sink.frames[i] == sent[i]);

  // A largest frame arriving in uneven pieces, and a burst of frames in one write.
  std::vector<uint8_t> big = pattern_frame(4, port::kMaxFrameLen);
  auto w = RawPeer::framed(big);
  size_t off = 0;
  for (size_t piece : {size_t{3}, size_t{2}, size_t{4000}, size_t{1}, size_t{50000}}) {
    REQUIRE(peer.write_all(w.data() + off, piece));
    off += piece;
    loop.run_once(false);
  }
  REQUIRE(peer.write_all(w.data() + off, w.size() - off));
  std::vector<uint8_t> many;
  for (uint32_t i = 0; i < 100; ++i) {
    auto m = RawPeer::framed(pattern_frame(100 + i, 64));
    many.insert(many.end(), m.begin(), m.end());
  }
  REQUIRE(peer.write_all(many.data(), many.size()));
  REQUIRE(wait_frames(loop, sink, sent.size() + 101));
  CHECK(sink.frames[3] == big);
  for (uint32_t i = 0; i < 100; ++i) CHECK(sink.frames[4 + i] == pattern_frame(100 + i, 64));
  CHECK(sink.max_burst == port::kMaxBurst);  // 100 frames from few reads come in full bursts
  CHECK(server->stats().in_frames == sent.size() + 101);
}

TEST_CASE("stream: a frame shorter than Ethernet is skipped, the stream continues") {
  ev::EventLoop loop(loop_options());
  ScratchDir dir;
  auto server = make_port(loop, "srv", StreamRole::kServer, dir.file("s.sock"));
  CollectSink sink;
  server->set_sink(&sink);
  REQUIRE(server->start().ok());
  RawPeer peer(dir.file("s.sock"));
  REQUIRE(run_until(loop, [&] { return server->connected(); }));
  auto a = RawPeer::framed(std::vector<uint8_t>(5, 0xab));
  auto b = RawPeer::framed(pattern_frame(9, 80));
  REQUIRE(peer.write_all(a.data(), a.size()));
  REQUIRE(peer.write_all(b.data(), b.size()));
  REQUIRE(wait_frames(loop, sink, 1));
  CHECK(sink.frames[0] == pattern_frame(9, 80));
  CHECK(server->stats().in_drop_too_short == 1);
  CHECK(server->connected());
}

TEST_CASE("stream: a malformed length drops the peer and the server accepts a new one") {
  ev::EventLoop loop(loop_options());
  ScratchDir dir;
  auto server = make_port(loop, "srv", StreamRole::kServer, dir.file("s.sock"));
  CollectSink sink;
  server->set_sink(&sink);
  REQUIRE(server->start().ok());

  uint32_t bad_lengths[] = {0, port::kMaxFrameLen + 1, 0xffffffffu};
  uint64_t expected_errors = 0;
  for (uint32_t bad : bad_lengths) {
    CAPTURE(bad);
    RawPeer peer(dir.file("s.sock"));
    REQUIRE(peer.fd >= 0);
    REQUIRE(run_until(loop, [&] { return server->connected(); }));
    CHECK(server->state() == port::PortState::kUp);
    // A good frame first: it must still be delivered.
    auto good = RawPeer::framed(pattern_frame(7, 100));
    size_t before = sink.frames.size();
    REQUIRE(peer.write_all(good.data(), good.size()));
    uint32_t be = htonl(bad);
    REQUIRE(peer.write_all(&be, 4));
    REQUIRE(run_until(loop, [&] { return !server->connected(); }));
    ++expected_errors;
    CHECK(sink.frames.size() == before + 1);
    CHECK(server->state() == port::PortState::kBroken);
    CHECK(server->stats().protocol_errors == expected_errors);
    CHECK(peer.sees_eof(2000));
    // Nothing can be sent while no peer is there; the caller counts the drop.
    auto f = pattern_frame(1, 60);
    std::vector<std::vector<uint8_t>> one{f};
    FrameList fl(one);
    CHECK(server->send_burst(fl.all()) == 0);
  }

  // A well-behaved peer afterwards is served normally.
  RawPeer peer(dir.file("s.sock"));
  REQUIRE(run_until(loop, [&] { return server->connected(); }));
  CHECK(server->state() == port::PortState::kUp);
  auto good = RawPeer::framed(pattern_frame(8, 200));
  size_t before = sink.frames.size();
  REQUIRE(peer.write_all(good.data(), good.size()));
  REQUIRE(wait_frames(loop, sink, before + 1));
  CHECK(sink.frames.back() == pattern_frame(8, 200));
  auto s = server->stats();
  CHECK(s.connections == 4);
  CHECK(s.disconnects == 3);
  CHECK(s.out_drop_not_connected == 3);
}

TEST_CASE("stream: a peer that does not read fills the pending buffer; nothing is lost or torn") {
  ev::EventLoop loop(loop_options());
  ScratchDir dir;
  auto server = make_port(loop, "srv", StreamRole::kServer, dir.file("s.sock"));
  REQUIRE(server->start().ok());
  RawPeer peer(dir.file("s.sock"));
  REQUIRE(run_until(loop, [&] { return server->connected(); }));

  // Offer bursts until the port refuses: socket buffer and pending buffer are full.
  std::vector<std::vector<uint8_t>> bufs;
  for (uint32_t i = 0; i < 4000; ++i) bufs.push_back(pattern_frame(i, 1000 + (i % 13) * 311));
  FrameList list(bufs, 2);
  size_t taken = 0;
  int refusals = 0;
  while (taken < list.size() && refusals < 3) {
    size_t offered = list.from(taken).size();
    size_t t = server->send_burst(list.from(taken));
    taken += t;
    if (t < offered) ++refusals;
    loop.run_once(false);
  }
  REQUIRE(taken < list.size());  // the peer never read, so the port had to refuse
  auto s = server->stats();
  CHECK(s.out_drop_busy > 0);
  CHECK(s.out_partial_writes >= 1);
  CHECK(s.pending_bytes > 0);
  CHECK(s.pending_bytes <= StreamPort::kPendingSize);
  CHECK(server->send_burst(list.from(taken)) == 0);  // pending not empty: nothing new

  // Now the peer reads everything, parsing the framing itself, while the loop flushes.
  std::vector<uint8_t> wire;
  size_t frames_seen = 0;
  size_t parse_off = 0;
  bool ok = true;
  int64_t deadline = ev::now_ns() + 20'000'000'000;
  while (frames_seen < taken && ev::now_ns() < deadline && ok) {
    loop.run_once(false);
    uint8_t b[65536];
    ssize_t r = recv(peer.fd, b, sizeof b, MSG_DONTWAIT);
    if (r > 0) wire.insert(wire.end(), b, b + r);
    while (wire.size() - parse_off >= 4) {
      uint32_t be;
      std::memcpy(&be, &wire[parse_off], 4);
      uint32_t len = ntohl(be);
      if (wire.size() - parse_off - 4 < len) break;
      std::vector<uint8_t> f(wire.begin() + long(parse_off + 4),
                             wire.begin() + long(parse_off + 4 + len));
      if (frames_seen >= bufs.size() || f != bufs[frames_seen]) {
        ok = false;
        break;
      }
      ++frames_seen;
      parse_off += 4 + len;
    }
  }
  CHECK(ok);
  CHECK(frames_seen == taken);
  CHECK(parse_off == wire.size());
  REQUIRE(run_until(loop, [&] { return server->stats().pending_bytes == 0; }));
  CHECK(server->stats().out_frames == taken);
  // Writable again: the next burst is taken.
  CHECK(server->send_burst(list.from(taken, 1)) == 1);
}

TEST_CASE("stream: the client reconnects after the server restarts") {
  ev::EventLoop loop(loop_options());
  ScratchDir dir;
  const std::string path = dir.file("s.sock");
  // The client starts first: its peer is not there yet, and that is not an error.
  auto client = make_port(loop, "cli", StreamRole::kClient, path);
  CollectSink at_client;
  client->set_sink(&at_client);
  REQUIRE(client->start().ok());
  CHECK(client->state() == port::PortState::kDown);
  loop.run_once(false);

  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    auto server = make_port(loop, "srv", StreamRole::kServer, path);
    CollectSink at_server;
    server->set_sink(&at_server);
    REQUIRE(server->start().ok());
    REQUIRE(run_until(loop, [&] { return client->connected() && server->connected(); }));
    std::vector<std::vector<uint8_t>> bufs{pattern_frame(uint32_t(round), 100),
                                           pattern_frame(uint32_t(round) + 50, 9000)};
    exchange(loop, *client, at_server, bufs, 1);
    exchange(loop, *server, at_client, bufs, 1);
    server.reset();  // the server goes away; the client notices and keeps retrying
    REQUIRE(run_until(loop, [&] { return !client->connected(); }));
    CHECK(client->state() == port::PortState::kDown);
  }
  auto s = client->stats();
  CHECK(s.connections == 3);
  CHECK(s.disconnects == 3);
}

TEST_CASE("stream: TCP client retries until the server appears") {
  ev::EventLoop loop(loop_options());
  // Find a free port, then release it so the client's first attempts are refused.
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(probe, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  socklen_t sl = sizeof sa;
  getsockname(probe, reinterpret_cast<sockaddr*>(&sa), &sl);
  close(probe);
  const std::string addr = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));

  auto client = make_port(loop, "cli", StreamRole::kClient, "", addr);
  REQUIRE(client->start().ok());
  run_until(loop, [] { return false; }, 50'000'000);  // a few refused attempts
  CHECK_FALSE(client->connected());
  auto server = make_port(loop, "srv", StreamRole::kServer, "", addr);
  CollectSink at_server;
  server->set_sink(&at_server);
  REQUIRE(server->start().ok());
  REQUIRE(run_until(loop, [&] { return client->connected() && server->connected(); }));
  std::vector<std::vector<uint8_t>> bufs{pattern_frame(1, 70), pattern_frame(2, 65535)};
  exchange(loop, *client, at_server, bufs, 4);
}

TEST_CASE("stream: bad options and unusable paths are refused at start") {
  ev::EventLoop loop(loop_options());
  ScratchDir dir;
  auto start = [&](StreamPortOptions o) { return StreamPort(loop, std::move(o)).start(); };
  StreamPortOptions o;
  Status st = start(o);
  CHECK(st.code == NetbackError::kInvalidOption);  // neither path nor addr
  o.path = dir.file("x.sock");
  o.addr = "127.0.0.1:1";
  CHECK(start(o).code == NetbackError::kInvalidOption);  // both
  o.path.clear();
  o.addr = "localhost:80";
  st = start(o);
  CHECK(st.code == NetbackError::kInvalidOption);
  CHECK(st.message.find("addr") != std::string::npos);
  o.addr = "127.0.0.1:70000";
  CHECK(start(o).code == NetbackError::kInvalidOption);
  o.addr = "127.0.0.1:0";
  o.role = StreamRole::kClient;
  CHECK(start(o).code == NetbackError::kInvalidOption);  // a client needs a port
  o = StreamPortOptions{};
  o.path = std::string(200, 'a');
  CHECK(start(o).code == NetbackError::kInvalidOption);
  // A regular file where the socket should go is never removed.
  std::string file = dir.file("plain");
  close(open(file.c_str(), O_CREAT | O_WRONLY, 0600));
  o.path = file;
  CHECK(start(o).code == NetbackError::kPathInUse);
  CHECK(access(file.c_str(), F_OK) == 0);
}

namespace {

/// Forwards every burst it receives to `to` (frames lent straight from the receiving port's
/// buffer into the sender's writev, as the switch does) and counts what `to` refused.
struct ForwardSink final : port::FrameSink {
  port::Port* to = nullptr;
  size_t refused = 0;
  void receive_burst(port::Port&, std::span<const port::Frame> burst) noexcept override {
    refused += burst.size() - to->send_burst(burst);
  }
};

bool is_subsequence_in_order(const std::vector<std::vector<uint8_t>>& got,
                             const std::vector<std::vector<uint8_t>>& sent) {
  size_t j = 0;
  for (const auto& g : got) {
    while (j < sent.size() && sent[j] != g) ++j;
    if (j == sent.size()) return false;
    ++j;
  }
  return true;
}

}  // namespace

TEST_CASE("stream: frames received on one port are forwarded zero-copy out of another") {
  // client c1 -> server s1 --ForwardSink--> server s2 -> client c2, all on one loop.
  ev::EventLoop loop(loop_options());
  ScratchDir dir;
  Pair first(loop, dir.file("1.sock"), "");
  Pair second(loop, "", "127.0.0.1:0");
  ForwardSink fwd;
  fwd.to = second.server.get();
  first.server->set_sink(&fwd);

  std::vector<std::vector<uint8_t>> bufs;
  for (uint32_t i = 0; i < 600; ++i) bufs.push_back(pattern_frame(i, 60 + (i * 977) % 9000));
  bufs.push_back(pattern_frame(1000, port::kMaxFrameLen));
  FrameList list(bufs, 2);
  CHECK(send_all(loop, *first.client, list) == bufs.size());
  // Everything the forwarder did not have refused arrives, intact and in order.
  REQUIRE(run_until(loop, [&] {
    return second.at_client.frames.size() + fwd.refused == bufs.size();
  }));
  CHECK(is_subsequence_in_order(second.at_client.frames, bufs));
  CHECK(second.at_client.frames.size() > bufs.size() / 2);
  CHECK(second.server->stats().out_drop_busy == fwd.refused);
}

TEST_CASE("stream: a TCP connect that hangs is abandoned and retried") {
  ev::EventLoop loop(loop_options());
  // A listener that never accepts, with its queue full: the kernel drops further SYNs, so a
  // new connect neither completes nor fails.
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
  REQUIRE(listen(lfd, 0) == 0);
  socklen_t sl = sizeof sa;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &sl);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    connect(c, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    fillers.push_back(c);
  }
  run_until(loop, [] { return false; }, 50'000'000);

  StreamPortOptions o;
  o.name = "cli";
  o.addr = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
  o.role = StreamRole::kClient;
  o.connect_timeout_ns = 30'000'000;
  o.reconnect_min_ns = 5'000'000;
  o.reconnect_max_ns = 10'000'000;
  StreamPort client(loop, o);
  REQUIRE(client.start().ok());
  CHECK(run_until(loop, [&] { return client.stats().connect_timeouts >= 2; }));
  CHECK_FALSE(client.connected());

  // Once the listener drains its queue the retries get through.
  for (int c : fillers) close(c);
  bool accepted = false;
  int64_t deadline = ev::now_ns() + 5'000'000'000;
  while (!client.connected() && ev::now_ns() < deadline) {
    int a = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (a >= 0) {
      accepted = true;
      close(a);  // the fillers' connections (and maybe ours: then we reconnect again)
    }
    loop.run_once(false);
  }
  CHECK(accepted);
  CHECK(run_until(loop, [&] { return client.stats().connections >= 1; }));
  close(lfd);
}

TEST_CASE("stream: TCP over IPv6 loopback") {
  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_addr = in6addr_loopback;
  bool v6 = probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  if (probe >= 0) close(probe);
  if (!v6) {
    MESSAGE("skipped: no IPv6 loopback");
    return;
  }
  ev::EventLoop loop(loop_options());
  Pair p(loop, "", "[::1]:0");
  CHECK(p.server->local_address().rfind("[::1]:", 0) == 0);
  std::vector<std::vector<uint8_t>> bufs{pattern_frame(1, 64), pattern_frame(2, 65535)};
  exchange(loop, *p.client, p.at_server, bufs, 1);
  exchange(loop, *p.server, p.at_client, bufs, 2);
}
