// SPDX-License-Identifier: MIT
// The fake frontend and port fixture the VhostUserNetPort tests share: a socket peer that plays
// QEMU with guest RAM in a memfd and real rings, a collecting sink, and the socket-role helpers.
#pragma once

#include <doctest/doctest.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "eventloop/clock.h"
#include "eventloop/event_loop.h"
#include "netback/common/socket_endpoint.h"
#include "netback/common/unix_socket.h"
#include "netback/vhost/vhost_user_net_port.h"
#include "netback/vhost/vhost_user_proto.h"
#include "tests/netback/test_guest.h"
#include "tests/netback/test_packed_ring.h"

namespace uvs::netback::test {

using R = vu::VhostUserRequest;
namespace feat = virtio::feature;

// A frontend's side of the socket roles, through the same calls the endpoint uses.
inline int connect_unix(const std::string& path) {
  bool in_progress = false;
  return start_connect(unix_address(path, "path").addr, SOCK_STREAM, &in_progress);
}
inline SocketResult listen_unix(const std::string& path) {
  return bind_socket(unix_address(path, "path").addr, SOCK_STREAM, 1);
}
inline int accept_unix(int listen_fd) { return accept_peer(listen_fd, nullptr); }

struct CollectSink final : port::FrameSink {
  std::vector<std::vector<uint8_t>> frames;
  void receive_burst(port::Port&, std::span<const port::Frame> burst) noexcept override {
    for (const auto& f : burst) {
      std::vector<uint8_t> b(f.len);
      f.copy_out(0, b.data(), f.len);
      frames.push_back(std::move(b));
    }
  }
};

/// Plays QEMU on one end of a socket, with guest RAM in a memfd and real split rings.
struct Frontend {
  ev::EventLoop& loop;
  int sock = -1;
  TestGuest guest{2 << 20};
  TestRing rx{guest, 16, 0};
  TestRing tx{guest, 16, 1 << 20};
  int kick[2] = {-1, -1};
  int call[2] = {-1, -1};

  Frontend(ev::EventLoop& l, int s) : loop(l), sock(s) {
    for (int i = 0; i < 2; ++i) {
      kick[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      call[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
  }
  ~Frontend() {
    for (int i = 0; i < 2; ++i) {
      close(kick[i]);
      close(call[i]);
    }
    if (sock >= 0) close(sock);
  }

  void pump(int n = 4) {
    for (int i = 0; i < n; ++i) loop.run_once(false);
  }

  bool send(R req, const void* payload, uint32_t size, std::vector<int> fds = {},
            uint32_t flags = vu::kFlagVersion) {
    vu::VhostUserHeader h{static_cast<uint32_t>(req), flags, size};
    std::vector<uint8_t> buf(sizeof h + size);
    std::memcpy(buf.data(), &h, sizeof h);
    if (size) std::memcpy(buf.data() + sizeof h, payload, size);
    iovec iov{buf.data(), buf.size()};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    std::vector<char> control(CMSG_SPACE(sizeof(int) * (fds.empty() ? 1 : fds.size())));
    if (!fds.empty()) {
      mh.msg_control = control.data();
      mh.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    bool ok = sendmsg(sock, &mh, MSG_NOSIGNAL) == static_cast<ssize_t>(buf.size());
    pump();
    return ok;
  }

  /// Waits (pumping the loop) for a reply; returns payload bytes or -1 on timeout/EOF.
  int recv_reply(vu::VhostUserHeader* h, void* payload, size_t max) {
    int64_t deadline = ev::now_ns() + 2'000'000'000;
    while (ev::now_ns() < deadline) {
      pollfd p{sock, POLLIN, 0};
      if (poll(&p, 1, 0) == 1) {
        ssize_t r = recv(sock, h, sizeof *h, MSG_WAITALL);
        if (r != sizeof *h) return -1;
        if (h->size > max) return -1;
        if (h->size && recv(sock, payload, h->size, MSG_WAITALL) != h->size) return -1;
        return static_cast<int>(h->size);
      }
      loop.run_once(false);
    }
    return -1;
  }

  uint64_t get_u64(R req) {
    send(req, nullptr, 0);
    vu::VhostUserHeader h;
    uint64_t v = ~0ull;
    REQUIRE(recv_reply(&h, &v, sizeof v) == 8);
    CHECK(h.request == static_cast<uint32_t>(req));
    CHECK(h.flags == (vu::kFlagVersion | vu::kFlagReply));
    return v;
  }

  /// Sends with NEED_REPLY and returns the REPLY_ACK value (-1: no ack).
  int64_t acked(R req, const void* payload, uint32_t size, std::vector<int> fds = {}) {
    send(req, payload, size, std::move(fds), vu::kFlagVersion | vu::kFlagNeedReply);
    vu::VhostUserHeader h;
    uint64_t v;
    if (recv_reply(&h, &v, sizeof v) != 8) return -1;
    return static_cast<int64_t>(v);
  }

  void set_u64(R req, uint64_t v, std::vector<int> fds = {}) { send(req, &v, 8, std::move(fds)); }

  /// Sends one ring's size, start, addresses and eventfds (vhost-user SET_VRING_*): `desc`, `used`
  /// and `avail` are guest physical addresses of the ring's three areas.
  void setup_vring(uint32_t index, uint32_t size, uint32_t base, uint64_t desc, uint64_t used,
                   uint64_t avail) {
    vu::VringState num{index, size};
    send(R::kSetVringNum, &num, sizeof num);
    vu::VringState start{index, base};
    send(R::kSetVringBase, &start, sizeof start);
    vu::VringAddr a{index, 0, guest.uva(desc), guest.uva(used), guest.uva(avail), 0};
    send(R::kSetVringAddr, &a, sizeof a);
    set_u64(R::kSetVringCall, index, {call[index]});
    set_u64(R::kSetVringKick, index, {kick[index]});
  }

  void setup_ring(uint32_t index, TestRing& r) {
    setup_vring(index, r.size, 0, r.desc_gpa, r.used_gpa, r.avail_gpa);
  }

  /// A packed ring (virtio 1.1 §2.7) at its start: index 0, wrap counter 1. vhost-user carries the
  /// driver event area as the avail address and the device event area as the used one.
  void setup_packed_ring(uint32_t index, TestPackedRing& r) {
    setup_vring(index, r.size, 0x8000, r.desc_gpa, r.device_event_gpa, r.driver_event_gpa);
  }

  /// Full bring-up of queue pair 0 (with packed rings `prx`/`ptx` when given). Returns the
  /// offered features.
  uint64_t bring_up(uint64_t want, bool protocol = true, bool enable = true,
                    TestPackedRing* prx = nullptr, TestPackedRing* ptx = nullptr) {
    uint64_t offered = get_u64(R::kGetFeatures);
    uint64_t f = want & offered;
    if (protocol) f |= virtio::feature_bit(feat::kVhostUserProtocolFeatures);
    if (protocol) {
      uint64_t pf = get_u64(R::kGetProtocolFeatures);
      CHECK((pf & vu::protocol_bit(vu::ProtocolFeature::kReplyAck)) != 0);
      set_u64(R::kSetProtocolFeatures, pf);
    }
    set_u64(R::kSetFeatures, f);
    vu::MemoryTable t{};
    t.num_regions = 1;
    t.regions[0] = {TestGuest::kGpa, guest.size, TestGuest::kUva, 0};
    if (protocol) {
      CHECK(acked(R::kSetMemTable, &t, 8 + 32, {guest.fd}) == 0);
    } else {
      send(R::kSetMemTable, &t, 8 + 32, {guest.fd});
    }
    if (prx) {
      setup_packed_ring(0, *prx);
      setup_packed_ring(1, *ptx);
    } else {
      setup_ring(0, rx);
      setup_ring(1, tx);
    }
    if (protocol && enable) {
      for (uint32_t i = 0; i < 2; ++i) {
        vu::VringState e{i, 1};
        send(R::kSetVringEnable, &e, sizeof e);
      }
    }
    return offered;
  }

  void kick_tx() {
    uint64_t one = 1;
    REQUIRE(write(kick[1], &one, 8) == 8);
    pump();
  }

  uint64_t calls(int i) {
    uint64_t v = 0;
    if (read(call[i], &v, 8) != 8) return 0;
    return v;
  }

  /// Guest TX: a frame behind a 12-byte header, optionally with the header in its own descriptor.
  uint16_t post_tx(const std::vector<uint8_t>& frame, bool split_header) {
    std::vector<uint8_t> hdr(12, 0);
    if (split_header) return tx.add_chain({{12, false, hdr.data()},
                                           {uint32_t(frame.size()), false, frame.data()}});
    std::vector<uint8_t> all = hdr;
    all.insert(all.end(), frame.begin(), frame.end());
    return tx.add_chain({{uint32_t(all.size()), false, all.data()}});
  }

  bool peer_closed() {
    int64_t deadline = ev::now_ns() + 2'000'000'000;
    while (ev::now_ns() < deadline) {
      loop.run_once(false);
      char c;
      ssize_t r = recv(sock, &c, 1, MSG_DONTWAIT);
      if (r == 0) return true;
      if (r < 0 && errno != EAGAIN) return true;
    }
    return false;
  }
};

inline std::vector<uint8_t> test_frame(size_t len, uint8_t seed) {
  std::vector<uint8_t> f(len);
  for (size_t i = 0; i < len; ++i) f[i] = static_cast<uint8_t>(seed + i);
  std::memset(f.data(), 0xff, 6);  // broadcast destination
  return f;
}

struct PortFixture {
  ev::EventLoop loop;
  CollectSink sink;
  std::unique_ptr<VhostUserNetPort> port;
  std::unique_ptr<Frontend> fe;

  explicit PortFixture(VhostUserNetOptions o = {}) {
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    o.role = SocketRole::kFd;
    o.fd = sv[0];
    port = std::make_unique<VhostUserNetPort>(loop, o);
    port->set_sink(&sink);
    REQUIRE(port->start());
    fe = std::make_unique<Frontend>(loop, sv[1]);
  }
  ~PortFixture() {
    fe.reset();
    port.reset();
  }
};

/// Two ports on one loop, "bad" and "good", each with its own fake frontend: the misbehaving-peer
/// tests break the first and check that the second keeps forwarding. Members are destroyed in
/// reverse order, frontends before ports before the loop.
struct BadGoodPorts {
  ev::EventLoop loop;
  CollectSink sink_a, sink_b;
  std::unique_ptr<VhostUserNetPort> a, b;
  std::unique_ptr<Frontend> fa, fb;

  BadGoodPorts() {
    int sa[2], sb[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sa) == 0);
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sb) == 0);
    VhostUserNetOptions oa, ob;
    oa.name = "bad";
    oa.role = ob.role = SocketRole::kFd;
    oa.fd = sa[0];
    ob.name = "good";
    ob.fd = sb[0];
    a = std::make_unique<VhostUserNetPort>(loop, oa);
    b = std::make_unique<VhostUserNetPort>(loop, ob);
    a->set_sink(&sink_a);
    b->set_sink(&sink_b);
    REQUIRE(a->start());
    REQUIRE(b->start());
    fa = std::make_unique<Frontend>(loop, sa[1]);
    fb = std::make_unique<Frontend>(loop, sb[1]);
  }
};

inline constexpr uint64_t kBasic = virtio::feature_bit(feat::kVersion1);

}  // namespace uvs::netback::test
