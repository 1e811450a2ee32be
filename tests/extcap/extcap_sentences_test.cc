// SPDX-License-Identifier: MIT
// extcap sentences: interface list from a ports reply, config, interface names, capture specs.
#include "tools/extcap/extcap_sentences.h"

#include <doctest/doctest.h>

#include "config/capture_spec.h"

using namespace uvs::extcap;
using Json = nlohmann::ordered_json;

TEST_CASE("one interface per port, named uvswitch-ID, after the extcap line") {
  const Json ports = Json::parse(
      R"([{"id": "vm0", "type": "vhost-user"}, {"id": "nat0", "type": "nat"}, {"noid": 1}, 3])");
  CHECK(interfaces_text(ports, "1.2") ==
        "extcap {version=1.2}{help=https://www.wireshark.org/docs/man-pages/extcap.html}\n"
        "interface {value=uvswitch-vm0}{display=uvswitch port vm0 (vhost-user)}\n"
        "interface {value=uvswitch-nat0}{display=uvswitch port nat0 (nat)}\n");
  // No daemon (or a bad reply): still the extcap line, so Wireshark starts.
  CHECK(interfaces_text(Json(), "1.2").find("interface ") == std::string::npos);
  CHECK(interfaces_text(Json::parse(R"([{"id": "a}b"}])"), "1").find("interface ") ==
        std::string::npos);
}

TEST_CASE("dlt and config sentences") {
  CHECK(dlts_text() == "dlt {number=1}{name=EN10MB}{display=Ethernet}\n");
  const std::string c = config_text("/run/uvswitch/control.sock");
  CHECK(c.find("{call=--control}") != std::string::npos);
  CHECK(c.find("{default=/run/uvswitch/control.sock}") != std::string::npos);
  CHECK(c.find("{call=--filter}") != std::string::npos);
  CHECK(c.find("{call=--direction}") != std::string::npos);
  CHECK(c.find("value {arg=2}{value=both}{display=Both}{default=true}") != std::string::npos);
  CHECK(config_text("bad}path").find("bad}path") == std::string::npos);
}

TEST_CASE("interface names map back to port ids") {
  CHECK(port_of_interface("uvswitch-vm0") == "vm0");
  CHECK(port_of_interface("uvswitch-") == std::nullopt);
  CHECK(port_of_interface("eth0") == std::nullopt);
}

TEST_CASE("the capture spec streams to the passed descriptor with filter and direction") {
  auto s = stream_spec("vm0", "icmp", "", "in");
  REQUIRE(s);
  auto spec = uvs::config::parse_capture_spec(*s);
  REQUIRE(spec);
  CHECK(spec->port == "vm0");
  CHECK(spec->file == "-");
  CHECK(spec->dir == uvs::config::CaptureDir::kIn);
  CHECK(spec->filter == "icmp");

  // Both filters: joined; commas in them survive keyval escaping.
  s = stream_spec("vm0", "tcp port 80 or udp", "ether[0:1,] == 1", "both");
  REQUIRE(s);
  spec = uvs::config::parse_capture_spec(*s);
  REQUIRE(spec);
  CHECK(spec->filter == "(tcp port 80 or udp) and (ether[0:1,] == 1)");
  CHECK(spec->dir == uvs::config::CaptureDir::kBoth);

  CHECK(!stream_spec("vm0", "", "", "sideways"));
  CHECK(!stream_spec("", "", "", "both"));
}
