// SPDX-License-Identifier: MIT
// The NAT's DNS relay (dns-server=) against a responder the test controls: random query ids,
// forged and mismatched answers dropped, oversized answers turned into TC responses.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <string>
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
using test::run_until;

constexpr uint8_t kGuestMac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr uint16_t kGuestPort = 40000;

void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = uint8_t(v >> 8);
  b[at + 1] = uint8_t(v);
}
uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// The question section for `name` (dotted), type A, class IN.
Bytes question(const std::string& name) {
  Bytes q;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q.push_back(uint8_t(dot - start));
    q.insert(q.end(), name.begin() + long(start), name.begin() + long(dot));
    start = dot + 1;
  }
  q.push_back(0);
  q.insert(q.end(), {0, 1, 0, 1});
  return q;
}

// A DNS message: header (id, flags, one question, `answers` answer records) + question + extra.
Bytes dns_message(uint16_t id, uint16_t flags, const std::string& name, uint16_t answers = 0,
                  size_t extra = 0) {
  Bytes m(12, 0);
  put16(m, 0, id);
  put16(m, 2, flags);
  put16(m, 4, 1);
  put16(m, 6, answers);
  Bytes q = question(name);
  m.insert(m.end(), q.begin(), q.end());
  m.resize(m.size() + extra, 0xab);
  return m;
}

// The guest's query as an Ethernet frame: 10.0.2.15:40000 -> 10.0.2.3:53.
Bytes query_frame(const Bytes& dns) {
  Bytes f(14 + 20 + 8, 0);
  std::memcpy(f.data(), "\x52\x55\x0a\x00\x02\x03", 6);
  std::memcpy(f.data() + 6, kGuestMac, 6);
  f[12] = 0x08;
  f[14] = 0x45;
  put16(f, 16, uint16_t(20 + 8 + dns.size()));
  f[22] = 64;
  f[23] = 17;
  in_addr s = ip("10.0.2.15"), d = ip("10.0.2.3");
  std::memcpy(f.data() + 26, &s, 4);
  std::memcpy(f.data() + 30, &d, 4);
  put16(f, 34, kGuestPort);
  put16(f, 36, 53);
  put16(f, 38, uint16_t(8 + dns.size()));
  f.insert(f.end(), dns.begin(), dns.end());
  return f;
}

void send(NatPort& nat, const Bytes& f) {
  iovec iov{const_cast<uint8_t*>(f.data()), f.size()};
  port::Frame fr{&iov, 1, uint32_t(f.size())};
  CHECK(nat.send_burst(std::span<const port::Frame>(&fr, 1)) == 1);
}

/// The upstream resolver: a UDP socket on 127.0.0.1 that the test answers from by hand.
struct Responder {
  int fd = -1;
  sockaddr_in addr{};
  sockaddr_in relay{};  // where the last query came from
  Responder() {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    addr.sin_family = AF_INET;
    addr.sin_addr = ip("127.0.0.1");
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  }
  ~Responder() { close(fd); }
  bool next_query(ev::EventLoop& loop, Bytes* q) {
    return run_until(loop, [&] {
      uint8_t buf[65536];
      socklen_t len = sizeof relay;
      ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&relay), &len);
      if (n <= 0) return false;
      q->assign(buf, buf + n);
      return true;
    });
  }
  void answer(const Bytes& m) {
    CHECK(sendto(fd, m.data(), m.size(), 0, reinterpret_cast<const sockaddr*>(&relay),
                 sizeof relay) == ssize_t(m.size()));
  }
};

NatPortOptions relay_options(const Responder& r) {
  NatPortOptions o = test::default_options("nat-dns");
  sockaddr_storage ss{};
  std::memcpy(&ss, &r.addr, sizeof r.addr);
  o.dns_server = ss;
  return o;
}

// The DNS part of an answer frame the NAT sent to the guest (checks the addressing on the way).
Bytes dns_of(const Bytes& f) {
  REQUIRE(f.size() >= 42 + 12);
  CHECK(std::memcmp(f.data(), kGuestMac, 6) == 0);
  CHECK(get16(f.data() + 34) == 53);
  CHECK(get16(f.data() + 36) == kGuestPort);
  return Bytes(f.begin() + 42, f.end());
}

/// A NAT relaying DNS to a Responder, its frames toward the guests collected.
struct RelayRig {
  ev::EventLoop loop{ev::test::loop_options()};
  Responder up;
  NatPort nat{loop, relay_options(up)};
  Collect sink;
  RelayRig() { nat.set_sink(&sink); }
};

constexpr uint16_t kQueryFlags = 0x0100;   // RD
constexpr uint16_t kAnswerFlags = 0x8180;  // QR RD RA

}  // namespace

TEST_CASE("dns relay: only the answer to the question asked reaches the guest") {
  RelayRig rig;  // MTU 1500
  auto& [loop, up, nat, sink] = rig;
  REQUIRE(nat.start());

  send(nat, query_frame(dns_message(0x1234, kQueryFlags, "example.test")));
  Bytes q;
  REQUIRE(up.next_query(loop, &q));
  const uint16_t wire = get16(q.data());
  CHECK(Bytes(q.begin() + 12, q.end()) == question("example.test"));

  // Forgeries and mistakes, none of which may reach the guest or consume the query.
  up.answer(dns_message(uint16_t(wire + 1), kAnswerFlags, "example.test", 1, 16));  // wrong id
  up.answer(dns_message(wire, kAnswerFlags, "evil.test", 1, 16));                   // other name
  up.answer(dns_message(wire, kQueryFlags, "example.test", 1, 16));                 // not a reply
  Bytes other_type = dns_message(wire, kAnswerFlags, "example.test", 1, 16);
  other_type[12 + question("example.test").size() - 3] = 28;                        // AAAA
  up.answer(other_type);
  REQUIRE(run_until(loop, [&] { return nat.stats().dns_mismatched == 4; }));
  // From another socket on the host: the relay's socket is connected to the server, so the
  // kernel does not even deliver it.
  {
    int third = socket(AF_INET, SOCK_DGRAM, 0);
    Bytes m = dns_message(wire, kAnswerFlags, "example.test", 1, 16);
    sendto(third, m.data(), m.size(), 0, reinterpret_cast<const sockaddr*>(&up.relay),
           sizeof up.relay);
    close(third);
  }
  run_until(loop, [] { return false; }, 50);
  CHECK(sink.frames.empty());

  // The real answer, its name in another case (the 0x20 trick some resolvers play).
  up.answer(dns_message(wire, kAnswerFlags, "EXAMPLE.Test", 1, 16));
  REQUIRE(run_until(loop, [&] { return sink.frames.size() == 1; }));
  Bytes a = dns_of(sink.frames[0]);
  CHECK(get16(a.data()) == 0x1234);  // the guest's own id again
  CHECK(a.size() == 12 + question("example.test").size() + 16);
  // Answered once: a replay of the same answer is dropped.
  up.answer(dns_message(wire, kAnswerFlags, "example.test", 1, 16));
  REQUIRE(run_until(loop, [&] { return nat.stats().dns_mismatched == 5; }));
  CHECK(sink.frames.size() == 1);
  CHECK(nat.stats().dns_answers == 1);
}

TEST_CASE("dns relay: query ids on the wire are random, not the guest's or a sequence") {
  RelayRig rig;  // MTU 1500
  auto& [loop, up, nat, sink] = rig;
  REQUIRE(nat.start());
  std::vector<uint16_t> ids;
  for (int i = 0; i < 32; ++i) {
    send(nat, query_frame(dns_message(7, kQueryFlags, "n" + std::to_string(i) + ".test")));
    Bytes q;
    REQUIRE(up.next_query(loop, &q));
    ids.push_back(get16(q.data()));
  }
  // 32 draws from 2^16: a repeat has probability ~0.8 %, so allow one; a run of +1 steps
  // (the old counter) or the guest's id everywhere fails.
  CHECK(std::set<uint16_t>(ids.begin(), ids.end()).size() >= 31);
  size_t steps = 0;
  for (size_t i = 1; i < ids.size(); ++i) steps += ids[i] == uint16_t(ids[i - 1] + 1);
  CHECK(steps < 3);
}

TEST_CASE("dns relay: an answer too long for the MTU becomes a TC response; others pass whole") {
  RelayRig rig;  // MTU 1500
  auto& [loop, up, nat, sink] = rig;
  REQUIRE(nat.start());

  // 1472 bytes of DNS is the most one 1500-byte IP packet carries: passes whole.
  send(nat, query_frame(dns_message(0x0101, kQueryFlags, "fits.test")));
  Bytes q;
  REQUIRE(up.next_query(loop, &q));
  const size_t qsz = question("fits.test").size();
  up.answer(dns_message(get16(q.data()), kAnswerFlags, "fits.test", 3, 1472 - 12 - qsz));
  REQUIRE(run_until(loop, [&] { return sink.frames.size() == 1; }));
  Bytes a = dns_of(sink.frames[0]);
  CHECK(a.size() == 1472);
  CHECK((a[2] & 0x02) == 0);

  // 6000 bytes (more than the old relay's 4096-byte buffer, which cut answers silently).
  send(nat, query_frame(dns_message(0x0202, kQueryFlags, "big.test")));
  REQUIRE(up.next_query(loop, &q));
  up.answer(dns_message(get16(q.data()), kAnswerFlags, "big.test", 40, 6000));
  REQUIRE(run_until(loop, [&] { return sink.frames.size() == 2; }));
  a = dns_of(sink.frames[1]);
  CHECK(get16(a.data()) == 0x0202);
  CHECK((a[2] & 0x02) != 0);       // TC
  CHECK(get16(a.data() + 6) == 0);  // no answer records left
  CHECK(a.size() == 12 + question("big.test").size());
  CHECK(Bytes(a.begin() + 12, a.end()) == question("big.test"));
  CHECK(nat.stats().dns_truncated == 1);
  CHECK(nat.stats().dns_answers == 2);
}

}  // namespace uvs::slirpglue
