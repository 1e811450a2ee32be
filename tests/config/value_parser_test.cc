// SPDX-License-Identifier: MIT
// Value parser tests: numbers, booleans, MAC, IP, CIDR, IP:port, VLANs, names, paths.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include "config/path_check.h"
#include "config/value_parser.h"
#include "tests/config/temp_dir.h"

using namespace uvs::config;

TEST_CASE("parse_uint: strict decimal within range") {
  CHECK(*parse_uint("0", 0, 10) == 0);
  CHECK(*parse_uint("10", 0, 10) == 10);
  CHECK(*parse_uint("007", 0, 10) == 7);
  CHECK(*parse_uint("18446744073709551615", 0, UINT64_MAX) == UINT64_MAX);
  for (const char* bad : {"", "abc", "-1", "+1", " 1", "1 ", "0x10", "1.5", "1e3"}) {
    CAPTURE(bad);
    auto r = parse_uint(bad, 0, 100);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ConfigError::kBadNumber);
    CHECK(r.error().message == "'" + std::string(bad) + "' is not a number");
  }
  auto hi = parse_uint("11", 0, 10);
  REQUIRE_FALSE(hi.ok());
  CHECK(hi.error().code == ConfigError::kOutOfRange);
  CHECK(hi.error().message == "11 is out of range 0..10");
  auto lo = parse_uint("0", 1, 10);
  CHECK(lo.error().message == "0 is out of range 1..10");
  auto huge = parse_uint("99999999999999999999999", 0, 10);
  CHECK(huge.error().code == ConfigError::kOutOfRange);
}

TEST_CASE("parse_bool: QEMU spellings") {
  for (const char* t : {"on", "yes", "true"}) CHECK(*parse_bool(t));
  for (const char* f : {"off", "no", "false"}) CHECK_FALSE(*parse_bool(f));
  auto r = parse_bool("maybe");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kBadBool);
  CHECK(r.error().message == "'maybe' is not on/off");
  CHECK_FALSE(parse_bool("ON").ok());
  CHECK_FALSE(parse_bool("1").ok());
}

TEST_CASE("parse_mac: unicast station addresses only") {
  auto m = parse_mac("52:54:00:AB:cd:0f");
  REQUIRE(m.ok());
  CHECK(m->bytes == std::array<uint8_t, 6>{0x52, 0x54, 0x00, 0xab, 0xcd, 0x0f});
  CHECK(m->to_string() == "52:54:00:ab:cd:0f");
  for (const char* bad : {"52:54:00:ab:cd", "52:54:00:ab:cd:0f:11", "52-54-00-ab-cd-0f",
                          "5254.00ab.cd0f", "zz:54:00:ab:cd:0f", "52:54:00:ab:cd:0"}) {
    CAPTURE(bad);
    auto r = parse_mac(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ConfigError::kBadMac);
    CHECK(r.error().message == "'" + std::string(bad) +
                                   "' is not a MAC address (expected 6 hex pairs like "
                                   "52:54:00:12:34:56)");
  }
  auto mc = parse_mac("01:00:5e:00:00:01");
  REQUIRE_FALSE(mc.ok());
  CHECK(mc.error().message.find("multicast") != std::string::npos);
  CHECK_FALSE(parse_mac("ff:ff:ff:ff:ff:ff").ok());
  auto zero = parse_mac("00:00:00:00:00:00");
  CHECK(zero.error().message == "'00:00:00:00:00:00' is not a usable MAC address");
}

TEST_CASE("IP addresses") {
  auto a = parse_ipv4("10.0.2.15");
  REQUIRE(a.ok());
  CHECK(a->value == 0x0a00020f);
  CHECK(a->to_string() == "10.0.2.15");
  for (const char* bad : {"10.0.2", "10.0.2.256", "10.0.2.1.1", "a.b.c.d", "", "::1"}) {
    CAPTURE(bad);
    auto r = parse_ipv4(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ConfigError::kBadAddress);
    CHECK(r.error().message == "'" + std::string(bad) + "' is not an IPv4 address");
  }
  auto v6 = parse_ipv6("fd00::2");
  REQUIRE(v6.ok());
  CHECK(v6->to_string() == "fd00::2");
  CHECK(parse_ipv6("fd00::g").error().message == "'fd00::g' is not an IPv6 address");
  CHECK(parse_ip("::1")->family == IpFamily::kV6);
  CHECK(parse_ip("127.0.0.1")->family == IpFamily::kV4);
  CHECK(parse_ip("localhost").error().message == "'localhost' is not an IP address");
}

TEST_CASE("CIDR networks") {
  auto n = parse_ipv4_net("10.0.2.0/24");
  REQUIRE(n.ok());
  CHECK(n->prefix == 24);
  CHECK(n->mask() == 0xffffff00);
  CHECK(n->contains(*parse_ipv4("10.0.2.200")));
  CHECK_FALSE(n->contains(*parse_ipv4("10.0.3.1")));
  CHECK(n->broadcast().to_string() == "10.0.2.255");
  CHECK(n->to_string() == "10.0.2.0/24");
  CHECK(parse_ipv4_net("0.0.0.0/0")->mask() == 0);

  auto host_bits = parse_ipv4_net("10.0.2.5/24");
  REQUIRE_FALSE(host_bits.ok());
  CHECK(host_bits.error().code == ConfigError::kBadCidr);
  CHECK(host_bits.error().message == "'10.0.2.5/24' has host bits set (did you mean 10.0.2.0/24?)");
  CHECK(parse_ipv4_net("10.0.2.0").error().message ==
        "'10.0.2.0' is not a network (expected ADDRESS/PREFIX like 10.0.2.0/24)");
  CHECK(parse_ipv4_net("10.0.2.0/33").error().message ==
        "'10.0.2.0/33': prefix length must be 0..32, got '33'");
  CHECK(parse_ipv4_net("10.0.2.0/x").error().code == ConfigError::kBadCidr);
  CHECK(parse_ipv4_net("10.0.2.0/24/1").error().code == ConfigError::kBadCidr);
  CHECK(parse_ipv4_net("foo/24").error().code == ConfigError::kBadCidr);

  auto v6 = parse_ipv6_net("fd00::/64");
  REQUIRE(v6.ok());
  CHECK(v6->prefix == 64);
  CHECK(v6->to_string() == "fd00::/64");
  CHECK(parse_ipv6_net("fd00::1/64").error().message ==
        "'fd00::1/64' has host bits set (did you mean fd00::/64?)");
  CHECK(parse_ipv6_net("fd00::/129").error().code == ConfigError::kBadCidr);
}

TEST_CASE("IP:PORT") {
  auto a = parse_socket_addr("127.0.0.1:5000");
  REQUIRE(a.ok());
  CHECK(a->ip.family == IpFamily::kV4);
  CHECK(a->port == 5000);
  CHECK(a->to_string() == "127.0.0.1:5000");
  auto b = parse_socket_addr("[::1]:53");
  REQUIRE(b.ok());
  CHECK(b->ip.family == IpFamily::kV6);
  CHECK(b->to_string() == "[::1]:53");
  const std::string expect = " is not IP:PORT (like 127.0.0.1:5000 or [::1]:5000)";
  for (const char* bad : {"127.0.0.1", "localhost:80", "::1:53", "[::1]53",
                          "[::1]:", "1.2.3.4:", "1.2.3.4:http", "[1.2.3.4]:5"}) {
    CAPTURE(bad);
    auto r = parse_socket_addr(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ConfigError::kBadHostPort);
    CHECK(r.error().message == "'" + std::string(bad) + "'" + expect);
  }
  auto zero = parse_socket_addr("127.0.0.1:0");
  CHECK(zero.error().code == ConfigError::kOutOfRange);
  CHECK(zero.error().message == "'127.0.0.1:0': port 0 is out of range 1..65535");
  CHECK(parse_socket_addr("127.0.0.1:65536").error().code == ConfigError::kOutOfRange);
}

TEST_CASE("VLAN ids and trunk lists") {
  CHECK(*parse_vlan("1") == 1);
  CHECK(*parse_vlan("4094") == 4094);
  for (const char* bad : {"0", "4095", "5000", "x", "-1"}) {
    CAPTURE(bad);
    auto r = parse_vlan(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ConfigError::kBadVlan);
    CHECK(r.error().message ==
          "'" + std::string(bad) + "' is not a VLAN id (1..4094; 0 and 4095 are reserved)");
  }
  CHECK(*parse_vlan_list("10") == std::vector<uint16_t>{10});
  CHECK(*parse_vlan_list("20:10:12-14") == std::vector<uint16_t>{10, 12, 13, 14, 20});
  CHECK(*parse_vlan_list("10,20") == std::vector<uint16_t>{10, 20});  // ",," in a keyval spec
  CHECK(*parse_vlan_list("10:10:9-11") == std::vector<uint16_t>{9, 10, 11});
  CHECK(parse_vlan_list("1-4094")->size() == 4094);
  CHECK(parse_vlan_list("10::20").error().message ==
        "'10::20' has an empty entry (write VLANs as 10:20:100-199)");
  CHECK(parse_vlan_list("10:").error().code == ConfigError::kBadVlan);
  CHECK(parse_vlan_list("").error().message == "empty VLAN list");
  CHECK(parse_vlan_list("10:5000").error().message ==
        "in VLAN list '10:5000': '5000' is not a VLAN id (1..4094; 0 and 4095 are reserved)");
  CHECK(parse_vlan_list("20-10").error().message ==
        "in VLAN list '20-10': range '20-10' runs backwards");
  CHECK(parse_vlan_list("10-x").error().code == ConfigError::kBadVlan);
}

TEST_CASE("interface and domain names") {
  CHECK(check_ifname("tap0").ok());
  CHECK(check_ifname("a23456789012345").ok());  // 15 bytes
  CHECK(check_ifname("a234567890123456").error().message ==
        "'a234567890123456' is not an interface name (1..15 characters)");
  CHECK(check_ifname("tap/0").error().message ==
        "'tap/0' is not an interface name (no '/', ':' or spaces)");
  CHECK_FALSE(check_ifname("tap 0").ok());
  CHECK_FALSE(check_ifname("eth0:1").ok());
  CHECK_FALSE(check_ifname("..").ok());

  CHECK(check_domain_name("example.internal").ok());
  CHECK(check_domain_name("a-b.c1").ok());
  CHECK(check_domain_name("-bad.x").error().message ==
        "'-bad.x' is not a domain name (a label cannot start or end with '-')");
  CHECK(check_domain_name("a..b").error().message ==
        "'a..b' is not a domain name (each label is 1..63 characters)");
  CHECK(check_domain_name("a_b").error().message ==
        "'a_b' is not a domain name (letters, digits, '-' and '.' only)");
  CHECK_FALSE(check_domain_name(std::string(64, 'a')).ok());
}

TEST_CASE("socket path checks") {
  uvs::config::test::TempDir dir;
  CHECK(check_socket_path(dir.file("absent.sock")).ok());
  CHECK(check_socket_path(dir.make_socket("stale.sock")).ok());
  std::string reg = dir.write("regular", "x");
  auto r = check_socket_path(reg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kBadPath);
  CHECK(r.error().message ==
        "'" + reg + "' exists and is not a socket (refusing to replace it with a socket)");
  CHECK(check_socket_path(dir.path()).error().message ==
        "'" + dir.path() + "' exists and is a directory (refusing to replace it with a socket)");
  std::string long_path = "/tmp/" + std::string(103, 'x');  // 108 bytes
  CHECK(check_socket_path(long_path).error().message ==
        "'" + long_path + "' is too long for a unix socket (108 bytes, at most 107)");
  CHECK(check_socket_path("/tmp/" + std::string(102, 'x')).ok());  // 107 bytes
  auto notdir = check_socket_path(reg + "/x.sock");
  CHECK(notdir.error().message == "'" + reg + "/x.sock': Not a directory");
  CHECK(check_socket_path("").error().message == "empty socket path");
}

TEST_CASE("output file checks") {
  uvs::config::test::TempDir dir;
  CHECK(check_output_file(dir.file("new.pcap")).ok());
  CHECK(check_output_file(dir.write("old.pcap", "x")).ok());
  CHECK(check_output_file(dir.path()).error().message == "'" + dir.path() + "' is a directory");
  CHECK(check_output_file(dir.file("nodir/x.pcap")).error().message ==
        "'" + dir.file("nodir/x.pcap") + "': directory '" + dir.file("nodir") +
            "': No such file or directory");
  CHECK(check_output_file("relative.pcap").ok());  // the current directory exists
}
