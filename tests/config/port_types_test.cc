// SPDX-License-Identifier: MIT
// The port type registry: every type is complete (keys described, reader and writer), and a
// PortBackend copies and compares the settings struct it holds.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "config/port_backend.h"
#include "config/port_spec_parser.h"
#include "config/port_types.h"
#include "config/tap_port_spec.h"
#include "config/vxlan_port_spec.h"

namespace uvs::config {
namespace {

TEST_CASE("every registered type has a name, a reader, a writer, help and described keys") {
  std::set<std::string> names;
  for (const PortTypeInfo* t : port_types()) {
    CAPTURE(t->name);
    CHECK(!t->name.empty());
    CHECK(names.insert(std::string(t->name)).second);  // names are unique
    CHECK(find_port_type(t->name) == t);
    CHECK(bool(t->read));
    CHECK(bool(t->write));
    CHECK(t->usage.starts_with(std::string(t->name) + ",id=ID"));
    CHECK(!t->summary.empty());
    std::set<std::string> keys;
    for (const KeyRule& k : t->keys) {
      CAPTURE(k.name);
      CHECK(keys.insert(std::string(k.name)).second);
      CHECK(!k.value.empty());
      CHECK(!k.help.empty());
    }
  }
  for (const KeyRule& k : shared_port_keys()) {
    CAPTURE(k.name);
    CHECK(!k.value.empty());
    CHECK(!k.help.empty());
  }
  CHECK(find_port_type("no-such-type") == nullptr);
}

TEST_CASE("--help has a line for every key of every type") {
  const std::string help = "\n" + port_types_help();
  for (const PortTypeInfo* t : port_types()) {
    CHECK(help.find("\n  " + std::string(t->name) + ",id=ID") != std::string::npos);
    for (const KeyRule& k : t->keys) {
      CHECK(help.find("      " + std::string(k.name) + "=" + std::string(k.value) + ": ") !=
            std::string::npos);
    }
  }
  for (const KeyRule& k : shared_port_keys()) {
    CHECK(help.find("      " + std::string(k.name) + "=") != std::string::npos);
  }
}

TEST_CASE("PortBackend copies, compares and refuses the wrong type") {
  PortBackend empty;
  CHECK(empty == PortBackend());
  CHECK(empty.get_if<TapPortSpec>() == nullptr);

  TapPortSpec tap;
  tap.ifname = "uvs0";
  PortBackend a = tap;
  PortBackend b = a;  // a deep copy
  CHECK(a == b);
  b.get<TapPortSpec>().ifname = "uvs1";
  CHECK(a.get<TapPortSpec>().ifname == "uvs0");
  CHECK_FALSE(a == b);
  CHECK_FALSE(a == empty);

  PortBackend x = VxlanPortSpec{};
  CHECK(x.get_if<TapPortSpec>() == nullptr);
  CHECK(x.get_if<VxlanPortSpec>() != nullptr);
  CHECK_FALSE(a == x);  // different settings types never compare equal

  a = x;
  CHECK(a == x);
  PortBackend moved = std::move(a);
  CHECK(moved == x);
}

TEST_CASE("a parsed spec points at its type's entry and round-trips through to_keyval") {
  auto p = parse_port_spec("tap,id=t0,ifname=uvs0,mtu=9000");
  REQUIRE(p.ok());
  CHECK(p->type == &kTapPortType);
  CHECK(p->type_name() == "tap");
  auto q = parse_port_spec(to_keyval(*p));
  REQUIRE(q.ok());
  CHECK(*q == *p);
  PortSpec other = *p;
  other.backend.get<TapPortSpec>().mtu = 1500;
  CHECK_FALSE(other == *p);
}

}  // namespace
}  // namespace uvs::config
