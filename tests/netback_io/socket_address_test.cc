// SPDX-License-Identifier: MIT
// SocketAddress parsing: the numeric "IP:PORT" forms the stream and dgram ports accept.
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <string>

#include "netback/common/socket_address.h"

using namespace uvs::netback;

TEST_CASE("socket address: numeric IPv4 and IPv6 with a port") {
  AddressResult r = parse_ip_address("127.0.0.1:5555", "addr");
  REQUIRE(r.status.ok());
  CHECK(r.addr.family() == AF_INET);
  CHECK(r.addr.port() == 5555);
  CHECK(r.addr.to_string() == "127.0.0.1:5555");

  r = parse_ip_address("[::1]:0", "addr");
  REQUIRE(r.status.ok());
  CHECK(r.addr.family() == AF_INET6);
  CHECK(r.addr.port() == 0);
  CHECK(r.addr.to_string() == "[::1]:0");

  r = parse_ip_address("[fd00::1:2]:65535", "addr");
  REQUIRE(r.status.ok());
  CHECK(r.addr.to_string() == "[fd00::1:2]:65535");
}

TEST_CASE("socket address: what is refused, naming the option") {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":80", "localhost:80", "1:80",
                          "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8x", "::1:80",
                          "[::1]80", "[::1]:", "[127.0.0.1]:80", "[::1:80"}) {
    CAPTURE(bad);
    AddressResult r = parse_ip_address(bad, "remote");
    CHECK(r.status.code == NetbackError::kInvalidOption);
    CHECK(r.status.message.rfind("remote '", 0) == 0);
    CHECK(r.addr.empty());
  }
}

TEST_CASE("socket address: unix paths") {
  AddressResult r = unix_address("/tmp/x.sock", "path");
  REQUIRE(r.status.ok());
  CHECK(r.addr.is_unix());
  CHECK(r.addr.to_string() == "/tmp/x.sock");
  CHECK(unix_address("", "path").status.code == NetbackError::kInvalidOption);
  CHECK(unix_address(std::string(108, 'a'), "path").status.code == NetbackError::kInvalidOption);
}
