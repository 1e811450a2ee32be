// SPDX-License-Identifier: MIT
// TapPort against the kernel's own stack: in a network namespace the test creates, the port's
// tap gets 10.99.0.1/24 and the test sends ARP and ICMP echo requests through the port and
// checks the kernel's replies come back through it; then the tap is deleted under the port.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "netback/host/tap_port.h"
#include "tests/netback_io/io_test_util.h"

using namespace uvs;
using namespace uvs::netback;
using namespace uvs::netback::test;

namespace {

// Everything below stays inside the namespace the test creates.
constexpr uint8_t kOurMac[6] = {0x02, 0x00, 0x00, 0x00, 0x99, 0x02};
constexpr uint8_t kOurIp[4] = {10, 99, 0, 2};
constexpr uint8_t kTapIp[4] = {10, 99, 0, 1};

bool can_use_tap() {
  return geteuid() == 0 && access("/dev/net/tun", R_OK | W_OK) == 0;
}

/// Runs `body` on a thread that first moves into a new, empty network namespace. The namespace
/// (and every device in it) disappears once the thread has exited and its fds are closed.
/// Returns false (with the errno in `*err`) when unshare is refused.
bool in_new_netns(const std::function<void()>& body, int* err) {
  *err = 0;
  std::thread t([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      *err = errno;
      return;
    }
    body();
  });
  t.join();
  return *err == 0;
}

/// Gives `ifname` an IPv4 address/24 and brings it (and lo) up, with ioctls in the calling
/// thread's namespace.
bool configure_ipv4(const std::string& ifname, const uint8_t ip[4]) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  auto* sin = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
  sin->sin_family = AF_INET;
  std::memcpy(&sin->sin_addr, ip, 4);
  bool ok = ioctl(s, SIOCSIFADDR, &ifr) == 0;
  sin->sin_addr.s_addr = htonl(0xffffff00);
  ok = ok && ioctl(s, SIOCSIFNETMASK, &ifr) == 0;
  ok = ok && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP;
  ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
  close(s);
  return ok;
}

uint16_t inet_csum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (; n > 1; p += 2, n -= 2) sum += uint32_t(p[0]) << 8 | p[1];
  if (n) sum += uint32_t(p[0]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

std::vector<uint8_t> arp_request() {
  std::vector<uint8_t> f(42, 0);
  std::memset(f.data(), 0xff, 6);
  std::memcpy(&f[6], kOurMac, 6);
  put16(&f[12], 0x0806);
  put16(&f[14], 1);       // Ethernet
  put16(&f[16], 0x0800);  // IPv4
  f[18] = 6;
  f[19] = 4;
  put16(&f[20], 1);  // request
  std::memcpy(&f[22], kOurMac, 6);
  std::memcpy(&f[28], kOurIp, 4);
  std::memcpy(&f[38], kTapIp, 4);
  return f;
}

std::vector<uint8_t> icmp_echo(const uint8_t dst_mac[6], uint16_t seq, size_t payload) {
  std::vector<uint8_t> f(14 + 20 + 8 + payload);
  std::memcpy(&f[0], dst_mac, 6);
  std::memcpy(&f[6], kOurMac, 6);
  put16(&f[12], 0x0800);
  uint8_t* ip = &f[14];
  ip[0] = 0x45;
  put16(ip + 2, static_cast<uint16_t>(20 + 8 + payload));
  put16(ip + 4, seq);
  put16(ip + 6, 0x4000);  // DF
  ip[8] = 64;
  ip[9] = 1;  // ICMP
  std::memcpy(ip + 12, kOurIp, 4);
  std::memcpy(ip + 16, kTapIp, 4);
  put16(ip + 10, inet_csum(ip, 20));
  uint8_t* icmp = ip + 20;
  icmp[0] = 8;  // echo request
  put16(icmp + 4, 0x7575);
  put16(icmp + 6, seq);
  for (size_t i = 0; i < payload; ++i) icmp[8 + i] = static_cast<uint8_t>(seq + i * 3);
  put16(icmp + 2, inet_csum(icmp, 8 + payload));
  return f;
}

bool is_arp_reply(const std::vector<uint8_t>& f) {
  return f.size() >= 42 && get16(&f[12]) == 0x0806 && get16(&f[20]) == 2 &&
         std::memcmp(&f[0], kOurMac, 6) == 0 && std::memcmp(&f[28], kTapIp, 4) == 0 &&
         std::memcmp(&f[32], kOurMac, 6) == 0 && std::memcmp(&f[38], kOurIp, 4) == 0;
}

/// The echo reply for `seq` with the request's payload and valid checksums.
bool is_echo_reply(const std::vector<uint8_t>& f, uint16_t seq, size_t payload) {
  if (f.size() < 14 + 20 + 8 + payload || get16(&f[12]) != 0x0800) return false;
  const uint8_t* ip = &f[14];
  if (ip[9] != 1 || std::memcmp(ip + 12, kTapIp, 4) != 0 || std::memcmp(ip + 16, kOurIp, 4) != 0)
    return false;
  size_t ihl = size_t(ip[0] & 0xf) * 4;
  if (inet_csum(ip, ihl) != 0) return false;
  const uint8_t* icmp = ip + ihl;
  size_t icmp_len = get16(ip + 2) - ihl;
  if (icmp[0] != 0 || get16(icmp + 4) != 0x7575 || get16(icmp + 6) != seq) return false;
  if (icmp_len != 8 + payload || inet_csum(icmp, icmp_len) != 0) return false;
  for (size_t i = 0; i < payload; ++i) {
    if (icmp[8 + i] != static_cast<uint8_t>(seq + i * 3)) return false;
  }
  return true;
}

size_t count_if_frames(const CollectSink& s, const std::function<bool(const std::vector<uint8_t>&)>& p) {
  size_t n = 0;
  for (const auto& f : s.frames) n += p(f) ? 1 : 0;
  return n;
}

/// The whole scenario for one vnet_hdr / offload setting; runs inside the new namespace.
void tap_scenario(bool vnet_hdr, bool offload) {
  ev::EventLoop loop(loop_options());
  TapPortOptions o;
  o.name = vnet_hdr ? "tapv" : "tap";
  o.ifname = "uvst0";
  o.vnet_hdr = vnet_hdr;
  o.offload = offload;
  o.mtu = 9000;
  TapPort tap(loop, o);
  CHECK(tap.state() == port::PortState::kDown);
  Status st = tap.start();
  CHECK_MESSAGE(st.ok(), st.to_string());
  if (!st.ok()) return;
  CHECK(tap.state() == port::PortState::kUp);
  CHECK(tap.ifname() == "uvst0");
  CHECK(tap.vnet_hdr_len() == (vnet_hdr ? 12u : 0u));
  // Every kernel this runs on has had checksum and TSO offloads on taps since 2.6.27.
  namespace cap = port::OffloadCap;
  const uint32_t tso = cap::kCsum | cap::kTso4 | cap::kTso6 | cap::kTsoEcn;
  CHECK((tap.offload_caps() & tso) == (vnet_hdr && offload ? tso : 0u));
  CHECK((tap.tun_offloads() != 0) == (vnet_hdr && offload));
  CHECK(tap.stats().created);
  CollectSink sink;
  tap.set_sink(&sink);

  // Administratively down: the kernel refuses writes (EIO), the port counts and stays up.
  CHECK(tap.link() == TapLink::kAdminDown);
  auto arp = arp_request();
  std::vector<std::vector<uint8_t>> arp_v{arp};
  FrameList arp_list(arp_v);
  CHECK(tap.send_burst(arp_list.all()) == 0);
  CHECK(tap.stats().out_drop_link_down == 1);
  CHECK(tap.state() == port::PortState::kUp);

  CHECK(configure_ipv4("uvst0", kTapIp));
  CHECK(tap.link() == TapLink::kUp);

  // ARP: the kernel answers for 10.99.0.1 with the tap's MAC.
  CHECK(tap.send_burst(arp_list.all()) == 1);
  bool got_arp = run_until(loop, [&] { return count_if_frames(sink, is_arp_reply) > 0; });
  CHECK(got_arp);
  if (!got_arp) return;
  uint8_t tap_mac[6];
  for (const auto& f : sink.frames) {
    if (is_arp_reply(f)) std::memcpy(tap_mac, &f[22], 6);
  }

  // ICMP echo, small and jumbo (MTU 9000 was applied), one burst of 32 requests scattered over
  // three segments each: every reply comes back through the port with valid checksums.
  std::vector<std::vector<uint8_t>> pings;
  for (uint16_t seq = 1; seq <= port::kMaxBurst; ++seq) {
    pings.push_back(icmp_echo(tap_mac, seq, seq == 7 ? 8000 : 56));
  }
  FrameList ping_list(pings, 3);
  CHECK(tap.send_burst(ping_list.all()) == port::kMaxBurst);
  bool all = run_until(loop, [&] {
    for (uint16_t seq = 1; seq <= port::kMaxBurst; ++seq) {
      size_t payload = seq == 7 ? 8000 : 56;
      if (count_if_frames(sink, [&](const auto& f) { return is_echo_reply(f, seq, payload); }) == 0)
        return false;
    }
    return true;
  });
  CHECK(all);
  auto s = tap.stats();
  CHECK(s.out_frames == 1 + port::kMaxBurst);
  CHECK(s.in_frames == sink.frames.size());
  CHECK(s.in_drop_bad_hdr_total() == 0);
  CHECK(sink.last_from == &tap);

  // Deleting the interface under the port: it notices (EBADFD), goes down and stops sending.
  if (std::system("ip link del dev uvst0 2>/dev/null") == 0) {
    CHECK(run_until(loop, [&] { return tap.state() == port::PortState::kDown; }));
    CHECK(tap.send_burst(ping_list.all()) == 0);
    CHECK(tap.stats().out_drop_not_ready == port::kMaxBurst);
    CHECK_FALSE(tap.stats().attached);
    CHECK(tap.link() == TapLink::kUnknown);
    loop.run_once(false);  // no busy loop on the dead fd: it is no longer watched
  } else {
    MESSAGE("`ip` not available: device removal not tested");
  }
}

}  // namespace

TEST_CASE("tap: the kernel answers ARP and ICMP through the port, in a private namespace") {
  if (!can_use_tap()) {
    MESSAGE("skipped: needs root and /dev/net/tun");
    return;
  }
  for (int mode = 0; mode < 3; ++mode) {
    const bool vnet = mode > 0, offload = mode == 2;
    CAPTURE(vnet);
    CAPTURE(offload);
    int err = 0;
    if (!in_new_netns([&] { tap_scenario(vnet, offload); }, &err)) {
      MESSAGE("skipped: unshare(CLONE_NEWNET) failed: " << std::strerror(err));
      return;
    }
  }
}

TEST_CASE("tap: attaching to an existing tap, and refusing what is not one") {
  if (!can_use_tap()) {
    MESSAGE("skipped: needs root and /dev/net/tun");
    return;
  }
  int err = 0;
  bool ran = in_new_netns(
      [&] {
        ev::EventLoop loop(loop_options());
        // A persistent tap made by someone else (as `ip tuntap add` would).
        int pfd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, "uvsp0", IFNAMSIZ - 1);
        ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
        CHECK(ioctl(pfd, TUNSETIFF, &ifr) == 0);
        CHECK(ioctl(pfd, TUNSETPERSIST, 1) == 0);
        close(pfd);
        {
          TapPortOptions o;
          o.name = "persist";
          o.ifname = "uvsp0";
          TapPort tap(loop, o);
          Status st = tap.start();
          CHECK_MESSAGE(st.ok(), st.to_string());
          CHECK_FALSE(tap.stats().created);
          CHECK(tap.state() == port::PortState::kUp);
        }
        // Still there after the port closed it.
        CHECK(if_nametoindex("uvsp0") != 0);

        TapPortOptions lo;
        lo.name = "notatap";
        lo.ifname = "lo";
        Status st = TapPort(loop, lo).start();
        CHECK(st.code == NetbackError::kSocket);
        CHECK(st.message.find("lo") != std::string::npos);

        TapPortOptions bad;
        bad.ifname = "a-name-that-is-too-long";
        CHECK(TapPort(loop, bad).start().code == NetbackError::kInvalidOption);
        bad.ifname = "uvsx0";
        bad.mtu = 20;
        CHECK(TapPort(loop, bad).start().code == NetbackError::kInvalidOption);
      },
      &err);
  if (!ran) MESSAGE("skipped: unshare(CLONE_NEWNET) failed: " << std::strerror(err));
}
