// SPDX-License-Identifier: MIT
// VhostUserNetPort driven by an in-test fake frontend over a socket: negotiation, TX/RX through
// real rings in memfd guest memory, replies and acks, ring stop, RARP, config space, socket roles,
// and misbehaving peers (bad message, bad descriptor) breaking only their own port.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
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

using namespace uvs;
using namespace uvs::netback;
using uvs::netback::test::TestGuest;
using uvs::netback::test::TestPackedRing;
using uvs::netback::test::TestRing;
using R = vu::VhostUserRequest;
namespace feat = virtio::feature;

namespace {

// A frontend's side of the socket roles, through the same calls the endpoint uses.
int connect_unix(const std::string& path) {
  bool in_progress = false;
  return start_connect(unix_address(path, "path").addr, SOCK_STREAM, &in_progress);
}
SocketResult listen_unix(const std::string& path) {
  return bind_socket(unix_address(path, "path").addr, SOCK_STREAM, 1);
}
int accept_unix(int listen_fd) { return accept_peer(listen_fd, nullptr); }

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

  void setup_ring(uint32_t index, TestRing& r) {
    vu::VringState num{index, r.size};
    send(R::kSetVringNum, &num, sizeof num);
    vu::VringState base{index, 0};
    send(R::kSetVringBase, &base, sizeof base);
    vu::VringAddr a{index, 0, guest.uva(r.desc_gpa), guest.uva(r.used_gpa),
                    guest.uva(r.avail_gpa), 0};
    send(R::kSetVringAddr, &a, sizeof a);
    set_u64(R::kSetVringCall, index, {call[index]});
    set_u64(R::kSetVringKick, index, {kick[index]});
  }

  /// A packed ring (virtio 1.1 §2.7) at its start: index 0, wrap counter 1. vhost-user carries the
  /// driver event area as the avail address and the device event area as the used one.
  void setup_packed_ring(uint32_t index, TestPackedRing& r) {
    vu::VringState num{index, r.size};
    send(R::kSetVringNum, &num, sizeof num);
    vu::VringState base{index, 0x8000};
    send(R::kSetVringBase, &base, sizeof base);
    vu::VringAddr a{index, 0, guest.uva(r.desc_gpa), guest.uva(r.device_event_gpa),
                    guest.uva(r.driver_event_gpa), 0};
    send(R::kSetVringAddr, &a, sizeof a);
    set_u64(R::kSetVringCall, index, {call[index]});
    set_u64(R::kSetVringKick, index, {kick[index]});
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

std::vector<uint8_t> test_frame(size_t len, uint8_t seed) {
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

constexpr uint64_t kBasic = virtio::feature_bit(feat::kVersion1);

}  // namespace

TEST_CASE("negotiation: offered features, protocol features, queue num, mem slots") {
  VhostUserNetOptions opts;
  opts.offloads = true;
  PortFixture f(opts);
  uint64_t offered = f.fe->get_u64(R::kGetFeatures);
  CHECK((offered & virtio::feature_bit(feat::kVersion1)) != 0);
  CHECK((offered & virtio::feature_bit(feat::kNetMrgRxbuf)) != 0);
  CHECK((offered & virtio::feature_bit(feat::kRingEventIdx)) != 0);
  CHECK((offered & virtio::feature_bit(feat::kVhostUserProtocolFeatures)) != 0);
  CHECK((offered & virtio::feature_bit(feat::kLogAll)) != 0);  // live migration
  for (uint32_t bit : {feat::kNetCsum, feat::kNetGuestCsum, feat::kNetHostTso4, feat::kNetHostTso6,
                       feat::kNetHostEcn, feat::kNetGuestTso4, feat::kNetGuestTso6,
                       feat::kNetGuestEcn}) {
    CHECK((offered & virtio::feature_bit(bit)) != 0);
  }
  // UFO has no segmenter; no peer here knows the USO bits.
  for (uint32_t bit : {feat::kNetHostUfo, feat::kNetGuestUfo, feat::kNetHostUso,
                       feat::kNetGuestUso4, feat::kNetGuestUso6}) {
    CHECK((offered & virtio::feature_bit(bit)) == 0);
  }
  uint64_t pf = f.fe->get_u64(R::kGetProtocolFeatures);
  CHECK((pf & vu::protocol_bit(vu::ProtocolFeature::kMq)) != 0);
  CHECK((pf & vu::protocol_bit(vu::ProtocolFeature::kConfigureMemSlots)) != 0);
  CHECK((pf & vu::protocol_bit(vu::ProtocolFeature::kLogShmfd)) != 0);
  f.fe->set_u64(R::kSetProtocolFeatures, pf);
  CHECK(f.fe->get_u64(R::kGetQueueNum) == 1);
  CHECK(f.fe->get_u64(R::kGetMaxMemSlots) == kMaxMemSlots);
  CHECK(f.port->state() == port::PortState::kDown);
  CHECK(f.port->connected());
}

TEST_CASE("TX: guest frames reach the sink without the header; used ring and call updated") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  CHECK(f.port->state() == port::PortState::kUp);
  auto a = test_frame(60, 1), b = test_frame(1514, 2);
  uint16_t ha = f.fe->post_tx(a, false);
  uint16_t hb = f.fe->post_tx(b, true);
  f.fe->kick_tx();
  REQUIRE(f.sink.frames.size() == 2);
  CHECK(f.sink.frames[0] == a);
  CHECK(f.sink.frames[1] == b);
  CHECK(f.fe->tx.used_idx() == 2);
  CHECK(f.fe->tx.used()->ring[0].id == ha);
  CHECK(f.fe->tx.used()->ring[1].id == hb);
  CHECK(f.fe->calls(1) == 1);  // one interrupt for the burst
  auto s = f.port->stats();
  CHECK(s.total.in_frames == 2);
  CHECK(s.total.in_bytes == 60 + 1514);
  CHECK(s.total.kicks == 1);
}

TEST_CASE("TX: buffers posted before the ring started are processed without a kick") {
  PortFixture f;
  auto a = test_frame(100, 3);
  f.fe->post_tx(a, false);
  f.fe->bring_up(kBasic);
  f.fe->pump(4);
  REQUIRE(f.sink.frames.size() == 1);
  CHECK(f.sink.frames[0] == a);
}

TEST_CASE("TX: too short and oversize chains are dropped and counted, not fatal") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  f.fe->post_tx(test_frame(8, 1), false);  // 12 + 8 < 12 + 14
  f.fe->post_tx(test_frame(60, 2), false);
  f.fe->kick_tx();
  CHECK(f.sink.frames.size() == 1);
  CHECK(f.port->stats().total.in_drop_too_short == 1);
  CHECK(f.fe->tx.used_idx() == 2);
  CHECK(f.port->state() == port::PortState::kUp);
}

TEST_CASE("RX: send_burst writes header + frame, num_buffers 1, one call per burst") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  for (int i = 0; i < 4; ++i) f.fe->rx.add_chain({{2048, true}});
  auto a = test_frame(60, 7), b = test_frame(1000, 8);
  iovec ia[2] = {{a.data(), 20}, {a.data() + 20, 40}};
  iovec ib{b.data(), b.size()};
  port::Frame frames[2] = {{ia, 2, 60}, {&ib, 1, 1000}};
  CHECK(f.port->send_burst(frames) == 2);
  CHECK(f.fe->rx.used_idx() == 2);
  CHECK(f.fe->calls(0) == 1);
  auto* used = f.fe->rx.used();
  CHECK(used->ring[0].len == 12 + 60);
  CHECK(used->ring[1].len == 12 + 1000);
  const uint8_t* buf0 = f.fe->guest.host(f.fe->rx.desc()[used->ring[0].id].addr);
  virtio::VirtioNetHdrV1 h;
  std::memcpy(&h, buf0, 12);
  CHECK(h.num_buffers == 1);
  CHECK(h.flags == 0);
  CHECK(std::memcmp(buf0 + 12, a.data(), 60) == 0);
  auto s = f.port->stats();
  CHECK(s.total.out_frames == 2);
  CHECK(s.total.out_bytes == 1060);
}

TEST_CASE("RX: no buffers → nothing taken and counted; frame bigger than a buffer dropped") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  auto a = test_frame(200, 1);
  iovec ia{a.data(), a.size()};
  port::Frame fr[2] = {{&ia, 1, 200}, {&ia, 1, 200}};
  CHECK(f.port->send_burst(fr) == 0);
  CHECK(f.port->stats().total.out_drop_no_buffers == 2);
  f.fe->rx.add_chain({{100, true}});  // too small without mergeable buffers
  CHECK(f.port->send_burst({fr, 1}) == 1);  // taken (and dropped: it can never fit)
  CHECK(f.port->stats().total.out_drop_too_big == 1);
  CHECK(f.fe->rx.used_idx() == 0);  // the buffer was not consumed
}

TEST_CASE("RX mergeable: a frame spans several buffers and num_buffers says how many") {
  PortFixture f;
  f.fe->bring_up(kBasic | virtio::feature_bit(feat::kNetMrgRxbuf));
  for (int i = 0; i < 8; ++i) f.fe->rx.add_chain({{256, true}});
  auto a = test_frame(600, 9);  // 612 bytes with the header: 3 buffers of 256
  iovec ia{a.data(), a.size()};
  port::Frame fr{&ia, 1, 600};
  CHECK(f.port->send_burst({&fr, 1}) == 1);
  CHECK(f.fe->rx.used_idx() == 3);
  auto* used = f.fe->rx.used();
  CHECK(used->ring[0].len == 256);
  CHECK(used->ring[1].len == 256);
  CHECK(used->ring[2].len == 100);
  std::vector<uint8_t> got;
  for (int k = 0; k < 3; ++k) {
    const uint8_t* p = f.fe->guest.host(f.fe->rx.desc()[used->ring[k].id].addr);
    got.insert(got.end(), p, p + used->ring[k].len);
  }
  virtio::VirtioNetHdrV1 h;
  std::memcpy(&h, got.data(), 12);
  CHECK(h.num_buffers == 3);
  CHECK(std::equal(a.begin(), a.end(), got.begin() + 12));
  // Not enough buffers left for a second big frame: nothing consumed, nothing published.
  auto big = test_frame(1500, 1);
  iovec ib{big.data(), big.size()};
  port::Frame fb{&ib, 1, 1500};
  CHECK(f.port->send_burst({&fb, 1}) == 0);
  CHECK(f.fe->rx.used_idx() == 3);
}

TEST_CASE("EVENT_IDX: no call until used_event is crossed") {
  PortFixture f;
  f.fe->bring_up(kBasic | virtio::feature_bit(feat::kRingEventIdx));
  f.fe->tx.used_event() = 1;  // interrupt once the second chain is used
  f.fe->post_tx(test_frame(60, 1), false);
  f.fe->kick_tx();
  CHECK(f.fe->calls(1) == 0);
  f.fe->post_tx(test_frame(60, 2), false);
  f.fe->kick_tx();
  CHECK(f.fe->calls(1) == 1);
  CHECK(f.fe->tx.avail_event() == 2);  // kicks re-armed for the next buffer
}

TEST_CASE("rings start disabled with PROTOCOL_FEATURES until SET_VRING_ENABLE") {
  PortFixture f;
  f.fe->bring_up(kBasic, true, false);
  CHECK(f.port->state() == port::PortState::kDown);
  f.fe->post_tx(test_frame(60, 1), false);
  f.fe->kick_tx();
  CHECK(f.sink.frames.empty());
  vu::VringState e{1, 1};
  f.fe->send(R::kSetVringEnable, &e, sizeof e);
  f.fe->pump(4);
  CHECK(f.sink.frames.size() == 1);
}

TEST_CASE("without PROTOCOL_FEATURES rings start enabled") {
  PortFixture f;
  f.fe->bring_up(kBasic, false);
  f.fe->post_tx(test_frame(60, 1), false);
  f.fe->kick_tx();
  CHECK(f.sink.frames.size() == 1);
}

TEST_CASE("GET_VRING_BASE stops the ring and returns where to resume") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  f.fe->post_tx(test_frame(60, 1), false);
  f.fe->post_tx(test_frame(60, 2), false);
  f.fe->kick_tx();
  vu::VringState s{1, 0};
  f.fe->send(R::kGetVringBase, &s, sizeof s);
  vu::VhostUserHeader h;
  vu::VringState got{};
  REQUIRE(f.fe->recv_reply(&h, &got, sizeof got) == 8);
  CHECK(got.index == 1);
  CHECK(got.num == 2);
  f.fe->post_tx(test_frame(60, 3), false);
  f.fe->kick_tx();  // the kick fd was closed with the ring: nothing happens
  CHECK(f.sink.frames.size() == 2);
  CHECK(f.port->stats().total.in_frames == 2);
}

TEST_CASE("REPLY_ACK: success acks 0, unsupported requests ack non-zero and keep the link") {
  PortFixture f;
  f.fe->bring_up(kBasic);
  vu::VringState e{1, 1};
  CHECK(f.fe->acked(R::kSetVringEnable, &e, sizeof e) == 0);
  uint64_t dummy = 0;
  CHECK(f.fe->acked(R::kIotlbMsg, &dummy, 8) == 1);
  CHECK(f.fe->acked(R::kSetConfig, nullptr, 0) == -1);  // malformed (size 0): connection dropped
  CHECK(f.port->state() == port::PortState::kBroken);
}

TEST_CASE("GET_CONFIG returns the MAC, status and MTU") {
  VhostUserNetOptions o;
  o.mtu = 9000;
  o.has_mac = true;
  o.mac = {0x52, 0x54, 0, 1, 2, 3};
  PortFixture f(o);
  CHECK((f.fe->get_u64(R::kGetFeatures) & virtio::feature_bit(feat::kNetMac)) != 0);
  vu::ConfigSpace c{};
  c.hdr = {0, 12, 0};
  f.fe->send(R::kGetConfig, &c, 12 + 12);
  vu::VhostUserHeader h;
  vu::ConfigSpace got{};
  REQUIRE(f.fe->recv_reply(&h, &got, sizeof got) == 24);
  virtio::VirtioNetConfig cfg{};
  std::memcpy(&cfg, got.region, 12);
  CHECK(std::memcmp(cfg.mac, o.mac.data(), 6) == 0);
  CHECK(cfg.status == virtio::kNetSLinkUp);
  CHECK(cfg.max_virtqueue_pairs == 1);
  CHECK(cfg.mtu == 9000);
  c.hdr = {20, 8, 0};  // beyond the 24-byte config
  f.fe->send(R::kGetConfig, &c, 12 + 8);
  CHECK(f.fe->recv_reply(&h, &got, sizeof got) == 0);
}

TEST_CASE("SEND_RARP injects a RARP frame from the guest MAC") {
  PortFixture f;
  uint8_t mac[8] = {0x52, 0x54, 0, 0xaa, 0xbb, 0xcc, 0, 0};
  f.fe->send(R::kSendRarp, mac, 8);
  REQUIRE(f.sink.frames.size() == 1);
  const auto& fr = f.sink.frames[0];
  CHECK(fr.size() == 60);
  CHECK(fr[0] == 0xff);
  CHECK(std::memcmp(fr.data() + 6, mac, 6) == 0);
  CHECK(fr[12] == 0x80);
  CHECK(fr[13] == 0x35);
  CHECK(fr[21] == 3);
}

TEST_CASE("ADD_MEM_REG / REM_MEM_REG with CONFIGURE_MEM_SLOTS") {
  PortFixture f;
  f.fe->set_u64(R::kSetProtocolFeatures, VhostUserDevice::offered_protocol_features());
  vu::SingleMemoryRegion r{};
  r.region = {TestGuest::kGpa, f.fe->guest.size, TestGuest::kUva, 0};
  CHECK(f.fe->acked(R::kAddMemReg, &r, sizeof r, {f.fe->guest.fd}) == 0);
  CHECK(f.port->device().memory().region_count() == 1);
  CHECK(f.fe->acked(R::kRemMemReg, &r, sizeof r) == 0);
  CHECK(f.port->device().memory().region_count() == 0);
  CHECK(f.fe->acked(R::kRemMemReg, &r, sizeof r) == 1);  // no such region: refused, link kept
  CHECK(f.port->connected());
}

TEST_CASE("misbehaving peer: a descriptor outside guest memory breaks only that port") {
  ev::EventLoop loop;
  CollectSink sink_a, sink_b;
  int sa[2], sb[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sa) == 0);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sb) == 0);
  VhostUserNetOptions oa, ob;
  oa.name = "bad";
  oa.role = ob.role = SocketRole::kFd;
  oa.fd = sa[0];
  ob.name = "good";
  ob.fd = sb[0];
  VhostUserNetPort a(loop, oa), b(loop, ob);
  a.set_sink(&sink_a);
  b.set_sink(&sink_b);
  REQUIRE(a.start());
  REQUIRE(b.start());
  Frontend fa(loop, sa[1]), fb(loop, sb[1]);
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

TEST_CASE("packed rings: TX and RX through the port; GET_VRING_BASE carries the wrap counters") {
  PortFixture f;
  // Packed rings in the upper part of guest RAM, away from the split ones.
  TestPackedRing prx(f.fe->guest, 8, 1536 << 10), ptx(f.fe->guest, 8, 1792 << 10);
  uint64_t offered = f.fe->bring_up(kBasic | virtio::feature_bit(feat::kRingPacked), true, true,
                                    &prx, &ptx);
  REQUIRE((offered & virtio::feature_bit(feat::kRingPacked)) != 0);
  REQUIRE(f.port->state() == port::PortState::kUp);

  // 11 frames through an 8-entry TX ring: the wrap counters flip once.
  std::vector<uint8_t> hdr(12, 0);
  for (uint16_t k = 0; k < 11; ++k) {
    std::vector<uint8_t> all = hdr;
    auto fr = test_frame(60, static_cast<uint8_t>(k));
    all.insert(all.end(), fr.begin(), fr.end());
    ptx.add_chain(static_cast<uint16_t>(100 + k), {{uint32_t(all.size()), false, all.data()}});
    f.fe->kick_tx();
    TestPackedRing::Used u;
    REQUIRE(ptx.pop_used(&u));
    CHECK(u.id == 100 + k);
  }
  REQUIRE(f.sink.frames.size() == 11);
  CHECK(f.sink.frames[10] == test_frame(60, 10));

  prx.add_chain(3, {{2048, true}});
  auto fr = test_frame(100, 7);
  iovec iov{fr.data(), fr.size()};
  port::Frame frame{&iov, 1, 100};
  CHECK(f.port->send_burst({&frame, 1}) == 1);
  TestPackedRing::Used u;
  REQUIRE(prx.pop_used(&u));
  CHECK(u.id == 3);
  CHECK(u.len == 112);
  CHECK(std::memcmp(f.fe->guest.host(prx.desc()[0].addr) + 12, fr.data(), 100) == 0);
  CHECK(f.fe->calls(0) == 1);
  CHECK(f.port->send_burst({&frame, 1}) == 0);  // no buffer left

  // Stop the TX ring: avail and used are at entry 3 of the second lap (wrap counter 0).
  vu::VringState st{1, 0};
  f.fe->send(R::kGetVringBase, &st, sizeof st);
  vu::VhostUserHeader h;
  vu::VringState reply{};
  REQUIRE(f.fe->recv_reply(&h, &reply, sizeof reply) == sizeof reply);
  CHECK(reply.index == 1);
  CHECK(reply.num == 0x00030003u);

  // Resume there: the next buffer is found at entry 3 with wrap counter 0.
  vu::VringState base{1, reply.num};
  f.fe->send(R::kSetVringBase, &base, sizeof base);
  f.fe->set_u64(R::kSetVringKick, 1, {f.fe->kick[1]});
  std::vector<uint8_t> all = hdr;
  auto last = test_frame(60, 42);
  all.insert(all.end(), last.begin(), last.end());
  ptx.add_chain(200, {{uint32_t(all.size()), false, all.data()}});
  f.fe->kick_tx();
  REQUIRE(f.sink.frames.size() == 12);
  CHECK(f.sink.frames[11] == last);
  REQUIRE(ptx.pop_used(&u));
  CHECK(u.id == 200);
  CHECK(f.port->stats().protocol_errors == 0);
}

TEST_CASE("packed rings: a bad descriptor breaks only that port, and is counted") {
  ev::EventLoop loop;
  CollectSink sink_a, sink_b;
  int sa[2], sb[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sa) == 0);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sb) == 0);
  VhostUserNetOptions oa, ob;
  oa.name = "bad";
  oa.role = ob.role = SocketRole::kFd;
  oa.fd = sa[0];
  ob.name = "good";
  ob.fd = sb[0];
  VhostUserNetPort a(loop, oa), b(loop, ob);
  a.set_sink(&sink_a);
  b.set_sink(&sink_b);
  REQUIRE(a.start());
  REQUIRE(b.start());
  Frontend fa(loop, sa[1]), fb(loop, sb[1]);
  const uint64_t packed = kBasic | virtio::feature_bit(feat::kRingPacked) |
                          virtio::feature_bit(feat::kRingIndirectDesc);
  TestPackedRing arx(fa.guest, 8, 1536 << 10), atx(fa.guest, 8, 1792 << 10);
  TestPackedRing brx(fb.guest, 8, 1536 << 10), btx(fb.guest, 8, 1792 << 10);
  fa.bring_up(packed, true, true, &arx, &atx);
  fb.bring_up(packed, true, true, &brx, &btx);

  SUBCASE("a buffer outside guest memory") {
    atx.add_raw({{0xdead0000000ull, 64, 1, 0}});
  }
  SUBCASE("a chain running into an entry that is not available") {
    atx.add_raw({{atx.alloc(64), 64, 0, virtio::kDescFNext}});
  }
  SUBCASE("an indirect table of 17 bytes") {
    atx.add_raw({{atx.alloc(32), 17, 1, virtio::kDescFIndirect}});
  }
  fa.kick_tx();
  CHECK(a.state() == port::PortState::kBroken);
  CHECK(fa.peer_closed());
  CHECK(a.stats().protocol_errors == 1);

  std::vector<uint8_t> all(12, 0);
  auto fr = test_frame(60, 1);
  all.insert(all.end(), fr.begin(), fr.end());
  btx.add_chain(1, {{uint32_t(all.size()), false, all.data()}});
  fb.kick_tx();
  CHECK(sink_b.frames.size() == 1);
  CHECK(b.state() == port::PortState::kUp);
}
