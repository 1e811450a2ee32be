// SPDX-License-Identifier: MIT
// Captures attached to a live Bridge on two forwarding threads: ingress as delivered, egress as
// sent (trunk tag included), detach and port removal. Runs under TSan with the rest.
#include <doctest/doctest.h>

#include "switch/capture.h"
#include "tests/capture/pcap_reader.h"
#include "tests/switch/bridge_rig.h"
#include "tests/switch/frame_builder.h"

using namespace uvs::bridge;
using namespace uvs::bridge::test;

namespace {

std::unique_ptr<Capture> make_capture(const std::string& port, const std::string& path, bool in,
                                      bool out) {
  CaptureOptions o;
  o.port = port;
  o.path = path;
  o.ingress = in;
  o.egress = out;
  std::string err;
  auto c = Capture::create(o, &err);
  REQUIRE_MESSAGE(c, err);
  return c;
}

}  // namespace

TEST_CASE("bridge capture: ingress untagged as delivered, egress tagged as sent on a trunk") {
  TempDir dir;
  BridgeRig r(2);
  r.add("a", 0);                            // access port, VLAN 1
  r.add("b", 1, trunk_vlans({1, 10}));      // trunk on the other thread: VLAN 1 leaves tagged
  auto in_a = make_capture("a", dir.file("a.pcap"), true, false);
  auto out_b = make_capture("b", dir.file("b.pcap"), false, true);
  REQUIRE(r.bridge->attach_capture("a", *in_a).ok());
  REQUIRE(r.bridge->attach_capture("b", *out_b).ok());
  CHECK_FALSE(r.bridge->attach_capture("nope", *in_a).ok());

  std::vector<Bytes> sent;
  for (int i = 0; i < 5; ++i) sent.push_back(make_frame(kBroadcast, mac(1), 60 + i, uint8_t(i)));
  r.ports[0]->inject_sync(sent);
  REQUIRE(wait_until([&] { return r.ports[1]->count() == 5; }));
  r.quiesce();
  CHECK(r.bridge->detach_capture(*in_a));
  CHECK(r.bridge->detach_capture(*out_b));
  CHECK_FALSE(r.bridge->detach_capture(*out_b));  // once only
  in_a->stop();
  out_b->stop();

  PcapFile a = read_pcap(dir.file("a.pcap"));
  PcapFile b = read_pcap(dir.file("b.pcap"));
  REQUIRE(a.ok);
  REQUIRE(b.ok);
  REQUIRE(a.frames.size() == 5);
  REQUIRE(b.frames.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(a.frames[i].data == sent[i]);
    const auto& t = b.frames[i].data;
    CHECK(t.size() == sent[i].size() + 4);
    CHECK((t[12] == 0x81 && t[13] == 0x00 && t[15] == 1));  // 802.1Q, VID 1
    CHECK(t == r.ports[1]->received()[i]);                   // exactly what the port got
  }
}

TEST_CASE("bridge capture: removing the port detaches its captures and marks them") {
  TempDir dir;
  BridgeRig r(2);
  r.add("a", 0);
  r.add("b", 1);
  auto c = make_capture("a", dir.file("a.pcap"), true, true);
  REQUIRE(r.bridge->attach_capture("a", *c).ok());
  r.ports[0]->inject_sync({make_frame(kBroadcast, mac(1), 60)});
  REQUIRE(wait_until([&] { return r.ports[1]->count() == 1; }));
  CHECK_FALSE(c->port_gone());
  REQUIRE(r.bridge->remove_port(r.index[0]));
  CHECK(c->port_gone());
  CHECK_FALSE(r.bridge->detach_capture(*c));
  c->stop();
  CHECK(c->counts().written == 1);
}
