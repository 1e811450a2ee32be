// SPDX-License-Identifier: MIT
// libFuzzer target: the NAT's DNS relay, guest queries and resolver answers over real sockets.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "eventloop/event_loop.h"
#include "port/port.h"
#include "slirp-glue/dns_relay.h"
#include "slirp-glue/nat_port.h"
#include "tests/fuzz/fuzz_reader.h"

using uvs::fuzz::FuzzReader;
using namespace uvs;
using slirpglue::DnsRelay;

namespace {

[[noreturn]] void fail() { __builtin_trap(); }

uint16_t rd16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
void wr16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

constexpr uint32_t kDns = 0x0a000203;  // 10.0.2.3, the NAT's DNS address

// A query as the guest sent it: where the answer must go, with which id.
struct Asked {
  uint8_t mac[6];
  uint32_t ip;  // network order
  uint16_t port;
  uint16_t id;
  bool answered = false;
};

struct Answer {
  std::vector<uint8_t> dns;  // as the resolver sent it
};

struct State {
  std::vector<Asked> asked;
  std::vector<Answer> answers;  // sent by the resolver in this input
};
State* g_state = nullptr;

// Every frame the relay hands the guests must be a well-formed IPv4/UDP datagram from the DNS
// address, port 53, to a guest that asked, carrying that guest's id and the resolver's bytes.
struct CheckingSink final : port::FrameSink {
  void receive_burst(port::Port&, std::span<const port::Frame> frames) noexcept override {
    for (const port::Frame& f : frames) {
      std::vector<uint8_t> b(f.len);
      f.copy_out(0, b.data(), f.len);
      if (b.size() < 14 + 20 + 8 + 12 || b[12] != 0x08 || b[13] != 0x00) fail();
      const uint8_t* ip = &b[14];
      if (ip[0] != 0x45 || ip[9] != 17 || rd16(ip + 2) != b.size() - 14) fail();
      uint32_t sum = 0;
      for (int i = 0; i < 20; i += 2) sum += rd16(ip + i);
      while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
      if (sum != 0xffff) fail();
      const uint8_t* udp = ip + 20;
      if (rd16(udp) != 53 || rd16(udp + 4) != b.size() - 34) fail();
      uint32_t src, dst;
      std::memcpy(&src, ip + 12, 4);
      std::memcpy(&dst, ip + 16, 4);
      if (src != htonl(kDns)) fail();
      const uint8_t* dns = udp + 8;
      const size_t n = b.size() - 42;
      Asked* who = nullptr;
      for (Asked& a : g_state->asked) {
        if (!a.answered && a.ip == dst && a.port == rd16(udp + 2) && a.id == rd16(dns) &&
            std::memcmp(a.mac, &b[0], 6) == 0) {
          who = &a;
          break;
        }
      }
      if (!who) fail();  // an answer to nobody, or a second answer to one query
      who->answered = true;
      bool from_resolver = false;
      for (const Answer& a : g_state->answers) {
        if (a.dns.size() >= n && std::memcmp(a.dns.data() + 4, dns + 4, n - 4) == 0) {
          from_resolver = true;
        }
        // Too long for the MTU: the header (TC set, no records) and the question only.
        static constexpr uint8_t kNoRecords[6] = {};
        if (a.dns.size() > n && (dns[2] & 0x02) && std::memcmp(a.dns.data() + 4, dns + 4, 2) == 0 &&
            std::memcmp(dns + 6, kNoRecords, 6) == 0 &&
            std::memcmp(a.dns.data() + 12, dns + 12, n - 12) == 0) {
          from_resolver = true;
        }
      }
      if (!from_resolver) fail();
    }
  }
};

struct Fixture {
  ev::EventLoop loop;
  CheckingSink sink;
  slirpglue::NatPort nat{loop, options()};
  int resolver = -1;
  sockaddr_storage resolver_addr{};

  static slirpglue::NatPortOptions options() {
    slirpglue::NatPortOptions o;
    o.net.s_addr = htonl(0x0a000200);
    o.mask.s_addr = htonl(0xffffff00);
    o.host.s_addr = htonl(0x0a000202);
    o.dhcp_start.s_addr = htonl(0x0a00020f);
    o.dns.s_addr = htonl(kDns);
    return o;
  }
  Fixture() {
    nat.set_sink(&sink);
    resolver = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    auto* sin = reinterpret_cast<sockaddr_in*>(&resolver_addr);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sockaddr_in);
    if (resolver < 0 || bind(resolver, reinterpret_cast<sockaddr*>(sin), len) != 0 ||
        getsockname(resolver, reinterpret_cast<sockaddr*>(sin), &len) != 0) {
      fail();
    }
  }
};

// A UDP/IPv4 frame from a guest to the DNS address. `raw` bits break one header field each, so
// the relay's header checks see near-misses, not only noise.
std::vector<uint8_t> query_frame(FuzzReader& r, Asked* a) {
  const uint8_t raw = r.u8();
  const uint8_t guest = r.u8();
  a->mac[0] = 0x52;
  a->mac[1] = 0x54;
  a->mac[2] = a->mac[3] = a->mac[4] = 0;
  a->mac[5] = guest;
  a->ip = htonl(0x0a000200 | guest);
  a->port = uint16_t(1024 + r.u8());
  std::vector<uint8_t> dns = r.bytes(r.u16() % 600);
  if (dns.size() >= 2) a->id = rd16(dns.data());
  const uint8_t ihl = (raw & 1) ? 6 : 5;
  std::vector<uint8_t> f(14 + ihl * 4 + 8 + dns.size());
  std::memset(f.data(), 0xff, 6);
  std::memcpy(&f[6], a->mac, 6);
  wr16(&f[12], (raw & 2) ? 0x86dd : 0x0800);
  uint8_t* ip = &f[14];
  ip[0] = uint8_t(((raw & 4) ? 0x60 : 0x40) | ihl);
  wr16(ip + 2, uint16_t(f.size() - 14 + ((raw & 8) ? 1 : 0)));
  if (raw & 16) wr16(ip + 6, 0x2000);  // more fragments
  ip[8] = 64;
  ip[9] = (raw & 32) ? 6 : 17;
  std::memcpy(ip + 12, &a->ip, 4);
  const uint32_t dst = htonl((raw & 64) ? kDns + 1 : kDns);
  std::memcpy(ip + 16, &dst, 4);
  uint8_t* udp = ip + ihl * 4;
  wr16(udp, a->port);
  wr16(udp + 2, 53);
  wr16(udp + 4, uint16_t(8 + dns.size() - ((raw & 128) ? 9 : 0)));
  if (!dns.empty()) std::memcpy(udp + 8, dns.data(), dns.size());
  return f;
}

}  // namespace

// Input: a sequence of operations, each one byte then its operands:
//   0: a guest frame: u16 length, the bytes (take_query on raw input);
//   1: a built query (see query_frame) handed to take_query;
//   2: the resolver answers: u8 which relayed query's id to use (or 0xff: u16 raw id),
//      u16 length, the DNS bytes; then the relay reads;
//   3: the relay reads with nothing sent.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fx = new Fixture;  // one NAT and resolver for the process; a relay per input
  State state;
  g_state = &state;
  DnsRelay::Opened opened =
      DnsRelay::open(fx->nat, fx->loop, fx->resolver_addr, in_addr{htonl(kDns)}, 1500);
  if (!opened) fail();
  DnsRelay& relay = *opened.relay;

  std::vector<uint16_t> relayed_ids;  // ids the resolver saw, in order
  sockaddr_storage relay_addr{};
  socklen_t relay_len = 0;
  auto drain = [&] {
    uint8_t buf[8192];
    sockaddr_storage from{};
    for (;;) {
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(fx->resolver, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from),
                           &fl);
      if (n < 0) return;
      relay_addr = from;
      relay_len = fl;
      if (n >= 2) relayed_ids.push_back(rd16(buf));
    }
  };

  drain();  // what the previous input's relay left behind
  relayed_ids.clear();
  relay_len = 0;

  FuzzReader r{data, size};
  for (int ops = 0; r.n > 0 && ops < 64; ++ops) {
    switch (r.u8() & 3) {
      case 0: {
        std::vector<uint8_t> f = r.bytes(r.u16() % 2048);
        (void)relay.take_query(f.data(), f.size());
        break;
      }
      case 1: {
        Asked a{};
        std::vector<uint8_t> f = query_frame(r, &a);
        const size_t before = relayed_ids.size();
        if (relay.take_query(f.data(), f.size())) state.asked.push_back(a);
        drain();
        if (relayed_ids.size() > before + 1) fail();
        break;
      }
      case 2: {
        drain();
        const uint8_t which = r.u8();
        const uint16_t raw_id = which == 0xff ? r.u16() : 0;
        Answer ans;
        ans.dns = r.bytes(r.u16() % 5000);
        if (relay_len == 0) break;  // no query reached the resolver yet: nowhere to answer
        if (ans.dns.size() >= 2) {
          wr16(ans.dns.data(), which == 0xff || relayed_ids.empty()
                                   ? raw_id
                                   : relayed_ids[which % relayed_ids.size()]);
        }
        state.answers.push_back(ans);
        sendto(fx->resolver, ans.dns.data(), ans.dns.size(), 0,
               reinterpret_cast<sockaddr*>(&relay_addr), relay_len);
        relay.on_readable();
        break;
      }
      case 3:
        relay.on_readable();
        break;
    }
  }
  drain();
  g_state = nullptr;
  return 0;
}
