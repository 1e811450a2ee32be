// SPDX-License-Identifier: MIT
// The NAT port's offloads: a guest's partial-checksum segment and TSO superframe reach a host
// socket through the switch byte for byte; libslirp's large segments come back as GSO frames
// with the guest's MSS, or cut to it for a port without TSO; NatSegments's MSS table, SYN
// rewrite and IPv4 fragmentation.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include <doctest/doctest.h>

#include "port/inet_csum.h"
#include "slirp-glue/nat_port.h"
#include "slirp-glue/nat_segments.h"
#include "tests/nat/nat_test_util.h"
#include "tests/switch/bridge_rig.h"

namespace uvs::slirpglue {
namespace {

using port::Offload;
using Bytes = std::vector<uint8_t>;

constexpr uint8_t kGuestMac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr uint8_t kNatMac[6] = {0x52, 0x55, 10, 0, 2, 2};  // 52:55 + the NAT's 10.0.2.2
constexpr uint16_t kGuestPort = 40000;
constexpr uint16_t kGuestMss = 1460;

uint16_t rd16(const Bytes& b, size_t o) { return uint16_t(b[o] << 8 | b[o + 1]); }
uint32_t rd32(const Bytes& b, size_t o) { return uint32_t(rd16(b, o)) << 16 | rd16(b, o + 2); }
void wr16(Bytes& b, size_t o, uint16_t v) {
  b[o] = uint8_t(v >> 8);
  b[o + 1] = uint8_t(v);
}
void wr32(Bytes& b, size_t o, uint32_t v) {
  wr16(b, o, uint16_t(v >> 16));
  wr16(b, o + 2, uint16_t(v));
}

// The TCP/UDP pseudo-header sum of an untagged IPv4 frame (RFC 9293 3.1).
port::CsumAcc pseudo(const Bytes& f, uint8_t proto) {
  port::CsumAcc acc;
  acc.add(f.data() + 26, 8);
  acc.add_u16(proto);
  acc.add_u16(uint16_t(rd16(f, 16) - (f[14] & 0xf) * 4));
  return acc;
}
bool ip_csum_ok(const Bytes& f) {
  port::CsumAcc acc;
  acc.add(f.data() + 14, size_t(f[14] & 0xf) * 4);
  return acc.sum16() == 0xffff;
}
bool l4_csum_ok(const Bytes& f, uint8_t proto) {
  port::CsumAcc acc = pseudo(f, proto);
  acc.add(f.data() + 34, f.size() - 34);
  return acc.sum16() == 0xffff;
}

// An IPv4/TCP frame from the guest (10.0.2.15:kGuestPort) to 10.0.2.2:dport, 20-byte IP header,
// TCP header with `opts` (a multiple of 4), checksums complete unless `partial` (then the TCP
// field holds the pseudo-header sum, as a virtio-net NEEDS_CSUM sender leaves it).
Bytes guest_tcp(uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, const Bytes& payload,
                const Bytes& opts = {}, bool partial = false) {
  Bytes f(kNatMac, kNatMac + 6);
  f.insert(f.end(), kGuestMac, kGuestMac + 6);
  f.insert(f.end(), {0x08, 0x00});
  const size_t tcp_len = 20 + opts.size();
  const size_t tot = 20 + tcp_len + payload.size();
  f.insert(f.end(), {0x45, 0, uint8_t(tot >> 8), uint8_t(tot), 0, 1, 0x40, 0, 64, 6, 0, 0,
                     10, 0, 2, 15, 10, 0, 2, 2});
  port::CsumAcc ipc;
  ipc.add(f.data() + 14, 20);
  wr16(f, 24, uint16_t(~ipc.sum16()));
  f.resize(34 + 20, 0);
  wr16(f, 34, kGuestPort);
  wr16(f, 36, dport);
  wr32(f, 38, seq);
  wr32(f, 42, ack);
  f[46] = uint8_t(tcp_len / 4 << 4);
  f[47] = flags;
  wr16(f, 48, 65535);  // window; no window scale option, as libslirp offers none
  f.insert(f.end(), opts.begin(), opts.end());
  f.insert(f.end(), payload.begin(), payload.end());
  port::CsumAcc acc = pseudo(f, 6);
  if (partial) {
    wr16(f, 50, acc.sum16());
  } else {
    acc.add(f.data() + 34, f.size() - 34);
    wr16(f, 50, acc.finish());
  }
  return f;
}

Bytes arp_request() {
  Bytes f(6, 0xff);
  f.insert(f.end(), kGuestMac, kGuestMac + 6);
  f.insert(f.end(), {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1});
  f.insert(f.end(), kGuestMac, kGuestMac + 6);
  f.insert(f.end(), {10, 0, 2, 15, 0, 0, 0, 0, 0, 0, 10, 0, 2, 2});
  return f;
}

Bytes pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = uint8_t(i * 7 + seed + (i >> 9));
  return b;
}

// The MSS option of a TCP SYN frame (untagged IPv4), 0 if none.
uint16_t mss_option(const Bytes& f) {
  const size_t l4 = 14 + size_t(f[14] & 0xf) * 4;
  const size_t end = l4 + size_t(f[l4 + 12] >> 4) * 4;
  for (size_t o = l4 + 20; o + 1 < end;) {
    if (f[o] == 0) break;
    if (f[o] == 1) {
      ++o;
      continue;
    }
    if (f[o] == 2 && f[o + 1] == 4) return rd16(f, o + 2);
    o += std::max<size_t>(f[o + 1], 2);
  }
  return 0;
}

bool is_tcp_from_nat(const Bytes& f) {
  return f.size() >= 54 && rd16(f, 12) == 0x0800 && f[23] == 6 && rd16(f, 34) != 0 &&
         rd16(f, 36) == kGuestPort;
}

// A loopback TCP listener the NAT's 10.0.2.2 reaches (libslirp maps it to 127.0.0.1).
struct HostListener {
  int fd = -1;
  uint16_t port = 0;
  HostListener() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(fd, 4) == 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~HostListener() { close(fd); }
};

// Reads from `fd` until `n` bytes arrived or 5 s passed.
Bytes read_n(int fd, size_t n) {
  Bytes out;
  const int64_t end = ev::now_ns() + 5'000'000'000;
  while (out.size() < n && ev::now_ns() < end) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    uint8_t buf[65536];
    const ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r <= 0) break;
    out.insert(out.end(), buf, buf + r);
  }
  return out;
}

}  // namespace

TEST_CASE("nat offloads: checksum-partial and TSO frames in, GSO frames with the guest's MSS out") {
  bridge::test::BridgeRig rig(1);
  bridge::test::FakePort& guest = rig.add("guest", 0);
  guest.set_offload_caps(port::OffloadCap::kCsum | port::OffloadCap::kTso4);
  ev::EventLoop& loop = rig.pt.loop(0);
  std::unique_ptr<NatPort> nat;
  loop.run_in_loop_sync([&] {
    nat = std::make_unique<NatPort>(loop, test::default_options());
    REQUIRE(nat->start());
  });
  bridge::PortOptions po;
  po.thread = 0;
  auto idx = rig.bridge->add_port(*nat, po);
  REQUIRE(idx.ok());
  auto nat_stats = [&] {
    NatPortStats s;
    loop.run_in_loop_sync([&] { s = nat->stats(); });
    return s;
  };
  auto find_frame = [&](auto pred) -> Bytes {
    Bytes hit;
    bridge::test::wait_until([&] {
      for (const Bytes& f : guest.received()) {
        if (pred(f)) {
          hit = f;
          return true;
        }
      }
      return false;
    });
    return hit;
  };

  HostListener host;
  guest.inject_sync({arp_request()});
  REQUIRE(!find_frame([](const Bytes& f) { return rd16(f, 12) == 0x0806; }).empty());

  // Handshake: the guest advertises MSS 1460; libslirp answers with the MSS its MTU allows.
  const uint32_t gseq = 1000;
  guest.inject_sync({guest_tcp(host.port, gseq, 0, 0x02, {}, {2, 4, 0x05, 0xb4})});
  const Bytes synack = find_frame(
      [](const Bytes& f) { return is_tcp_from_nat(f) && (f[47] & 0x12) == 0x12; });
  REQUIRE(!synack.empty());
  CHECK(mss_option(synack) == kSlirpLargeMtu - 40);
  CHECK(nat_stats().in_syn_mss_raised == 1);
  const uint32_t nseq = rd32(synack, 38) + 1;
  const int conn = [&] {
    pollfd p{host.fd, POLLIN, 0};
    REQUIRE(poll(&p, 1, 5000) == 1);
    return accept(host.fd, nullptr, nullptr);
  }();
  REQUIRE(conn >= 0);
  guest.inject_sync({guest_tcp(host.port, gseq + 1, nseq, 0x10, {})});

  SUBCASE("guest to host: a partial checksum and a TSO superframe arrive whole") {
    const Bytes small = pattern(1000, 1);
    Offload partial;
    partial.flags = Offload::kNeedsCsum;
    partial.csum_start = 34;
    partial.csum_offset = 16;
    guest.inject_sync({guest_tcp(host.port, gseq + 1, nseq, 0x18, small, {}, true)}, 0,
                      {partial});
    const Bytes big = pattern(20000, 2);
    Offload tso = partial;
    tso.gso = Offload::Gso::kTcpV4;
    tso.gso_size = kGuestMss;
    tso.hdr_len = 54;
    // Scattered in 4000-byte pieces, like a guest's descriptor chain.
    guest.inject_sync({guest_tcp(host.port, gseq + 1 + 1000, nseq, 0x18, big, {}, true)}, 4000,
                      {tso});
    Bytes want = small;
    want.insert(want.end(), big.begin(), big.end());
    const Bytes got = read_n(conn, want.size());
    CHECK(got.size() == want.size());
    CHECK(got == want);
    const NatPortStats s = nat_stats();
    CHECK(s.in_gso == 1);
    CHECK(s.in_drop_offload == 0);
    CHECK(s.guest_errors == 0);
    const bridge::PortStats ps = rig.bridge->stats().ports[1];
    CHECK(ps.sw_csum == 2);  // both completed by the switch, the superframe whole
    CHECK(ps.sw_segmented == 0);
  }

  SUBCASE("host to guest: GSO frames cut at the guest's MSS, or segments for a port without TSO") {
    const Bytes data = pattern(30000, 3);
    REQUIRE(send(conn, data.data(), data.size(), 0) == ssize_t(data.size()));
    // Collects the payload the guest received, by sequence number, until `n` bytes are in.
    auto collect = [&](uint32_t from, size_t n, bool want_gso) {
      std::map<uint32_t, Bytes> by_seq;
      size_t have = 0;
      bridge::test::wait_until([&] {
        by_seq.clear();
        const auto frames = guest.received();
        const auto ols = guest.received_ol();
        for (size_t i = 0; i < frames.size(); ++i) {
          const Bytes& f = frames[i];
          if (!is_tcp_from_nat(f)) continue;
          const size_t hl = 34 + size_t(f[46] >> 4) * 4;
          if (f.size() <= hl) continue;
          if (ols[i].gso == Offload::Gso::kNone) {
            CHECK(f.size() <= 1514);  // a plain frame never exceeds the guest's MTU
            CHECK(ip_csum_ok(f));
            if (!ols[i].needs_csum()) CHECK(l4_csum_ok(f, 6));
          } else {
            CHECK(want_gso);
            CHECK(ols[i].gso == Offload::Gso::kTcpV4);
            CHECK(ols[i].gso_size == kGuestMss);
            CHECK(ols[i].needs_csum());
          }
          by_seq[rd32(f, 38)] = Bytes(f.begin() + long(hl), f.end());
        }
        Bytes all;
        uint32_t at = from;
        for (auto it = by_seq.find(at); it != by_seq.end(); it = by_seq.find(at)) {
          all.insert(all.end(), it->second.begin(), it->second.end());
          at += uint32_t(it->second.size());
        }
        have = all.size();
        return have >= n;
      });
      Bytes all;
      uint32_t at = from;
      for (auto it = by_seq.find(at); it != by_seq.end(); it = by_seq.find(at)) {
        all.insert(all.end(), it->second.begin(), it->second.end());
        at += uint32_t(it->second.size());
      }
      return all;
    };
    const Bytes got = collect(nseq, data.size(), true);
    CHECK(got == data);
    CHECK(nat_stats().out_gso >= 1);
    CHECK(rig.bridge->stats().ports[0].out_gso >= 1);

    // The same connection toward a port without offloads: the switch cuts at the guest's MSS.
    guest.set_offload_caps(0);
    guest.clear();
    guest.inject_sync({guest_tcp(host.port, gseq + 1, nseq + uint32_t(data.size()), 0x10, {})});
    const Bytes more = pattern(30000, 4);
    REQUIRE(send(conn, more.data(), more.size(), 0) == ssize_t(more.size()));
    const Bytes got2 = collect(nseq + uint32_t(data.size()), more.size(), false);
    CHECK(got2 == more);
    CHECK(rig.bridge->stats().ports[0].sw_segmented >= 1);
  }

  close(conn);
  rig.bridge->remove_port(*idx);
  loop.run_in_loop_sync([&] { nat.reset(); });
}

TEST_CASE("nat segments: the MSS table, the raised SYN and what leaves for the guest") {
  NatSegments segs(1500);
  // A SYN with MSS 1400: raised to the large MSS, checksum still valid.
  Bytes syn = guest_tcp(80, 1, 0, 0x02, {}, {1, 1, 1, 1, 2, 4, 0x05, 0x78});
  REQUIRE(NatSegments::is_tcp_syn(syn.data(), syn.size()));
  CHECK(segs.on_guest_syn(syn.data(), syn.size()));
  CHECK(mss_option(syn) == kSlirpLargeMtu - 40);
  CHECK(l4_csum_ok(syn, 6));
  CHECK_FALSE(NatSegments::is_tcp_syn(syn.data(), 40));  // truncated: not parsed

  // libslirp's reply direction: a 10000-byte segment to that guest connection.
  auto from_nat = [](uint16_t guest_port, size_t payload) {
    Bytes f = guest_tcp(80, 5, 6, 0x18, pattern(payload, 9));
    // Swap to NAT -> guest: addresses and ports.
    for (int i = 0; i < 6; ++i) std::swap(f[i], f[6 + i]);
    for (int i = 0; i < 4; ++i) std::swap(f[26 + i], f[30 + i]);
    wr16(f, 34, 80);
    wr16(f, 36, guest_port);
    return f;
  };
  Bytes seg = from_nat(kGuestPort, 10000);
  REQUIRE(segs.start(seg.data(), seg.size()) == NatSegments::Out::kGso);
  auto out = segs.next();
  REQUIRE(out.size() == 1);
  CHECK(out[0].len == seg.size());
  CHECK(out[0].ol.gso_size == 1400);
  CHECK(out[0].ol.csum_start == 34);
  CHECK(segs.next().empty());

  // At or under the MSS: plain, as libslirp built it.
  Bytes small = from_nat(kGuestPort, 1400);
  CHECK(segs.start(small.data(), small.size()) == NatSegments::Out::kPlain);
  CHECK(segs.next()[0].ol.plain());

  // A connection the table does not know: cut at the MTU's MSS.
  Bytes unknown = from_nat(kGuestPort + 1, 3000);
  REQUIRE(segs.start(unknown.data(), unknown.size()) == NatSegments::Out::kGso);
  CHECK(segs.next()[0].ol.gso_size == 1460);

  // A SYN without the option: RFC 9293's 536.
  Bytes bare = guest_tcp(81, 1, 0, 0x02, {});
  CHECK_FALSE(segs.on_guest_syn(bare.data(), bare.size()));
  Bytes to_bare = from_nat(kGuestPort, 2000);
  wr16(to_bare, 34, 81);
  REQUIRE(segs.start(to_bare.data(), to_bare.size()) == NatSegments::Out::kGso);
  CHECK(segs.next()[0].ol.gso_size == 536);
}

TEST_CASE("nat segments: IPv4 datagrams over the MTU leave as fragments, DF ones are dropped") {
  NatSegments segs(1500);
  const Bytes payload = pattern(4000, 5);
  Bytes f(kGuestMac, kGuestMac + 6);
  f.insert(f.end(), kNatMac, kNatMac + 6);
  f.insert(f.end(), {0x08, 0x00});
  const size_t tot = 20 + 8 + payload.size();
  f.insert(f.end(), {0x45, 0, uint8_t(tot >> 8), uint8_t(tot), 0x12, 0x34, 0, 0, 64, 17, 0, 0,
                     10, 0, 2, 2, 10, 0, 2, 15, 0, 53, 0x9c, 0x40, uint8_t((8 + payload.size()) >> 8),
                     uint8_t(8 + payload.size()), 0, 0});
  f.insert(f.end(), payload.begin(), payload.end());
  REQUIRE(segs.start(f.data(), f.size()) == NatSegments::Out::kFragments);
  Bytes joined;
  size_t frags = 0;
  for (auto out = segs.next(); !out.empty(); out = segs.next()) {
    for (const port::Frame& fr : out) {
      Bytes b(fr.len);
      fr.copy_out(0, b.data(), b.size());
      CHECK(b.size() <= 1514);
      CHECK(ip_csum_ok(b));
      CHECK(rd16(b, 18) == 0x1234);
      const size_t off = size_t(rd16(b, 20) & 0x1fff) * 8;
      CHECK(off == joined.size());
      const bool mf = (rd16(b, 20) & 0x2000) != 0;
      joined.insert(joined.end(), b.begin() + 34, b.end());
      ++frags;
      CHECK(mf == (joined.size() < tot - 20));
    }
  }
  CHECK(frags == 3);
  CHECK(joined == Bytes(f.begin() + 34, f.end()));

  f[20] = 0x40;  // DF
  CHECK(segs.start(f.data(), f.size()) == NatSegments::Out::kDropDf);
  CHECK(segs.next().empty());
}

}  // namespace uvs::slirpglue
