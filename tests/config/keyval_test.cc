// SPDX-License-Identifier: MIT
// Keyval parser tests: item splitting, ",," escaping, type word, key syntax, did-you-mean.
#include <doctest/doctest.h>

#include "config/keyval.h"
#include "config/suggest.h"

using namespace uvs::config;

TEST_CASE("keyval: type word then key=value items in order") {
  auto kv = parse_keyval("vhost-user,id=vm0,path=/run/x.sock,server=off", KeyvalType::kLeading);
  REQUIRE(kv.ok());
  CHECK(kv->type == "vhost-user");
  REQUIRE(kv->items.size() == 3);
  CHECK(kv->items[0].key == "id");
  CHECK(kv->items[0].value == "vm0");
  CHECK(kv->items[2].key == "server");
  CHECK(kv->items[2].value == "off");
  CHECK(kv->get("path") == "/run/x.sock");
  CHECK(kv->get("missing", "dflt") == "dflt");
  CHECK(kv->count("id") == 1);
}

TEST_CASE("keyval: ',,' is a literal comma inside a value") {
  auto kv = parse_keyval("port=vm0,filter=tcp port 22 or udp,,x,file=a.pcap", KeyvalType::kNone);
  REQUIRE(kv.ok());
  REQUIRE(kv->items.size() == 3);
  CHECK(kv->items[1].value == "tcp port 22 or udp,x");
  CHECK(kv->items[2].value == "a.pcap");
}

TEST_CASE("keyval: commas pair greedily, as in QEMU") {
  // ",,," is an escaped comma followed by a separator.
  auto items = split_keyval_items("a=1,,,b=2");
  REQUIRE(items.size() == 2);
  CHECK(items[0] == "a=1,");
  CHECK(items[1] == "b=2");
  // ",,,," is two escaped commas.
  items = split_keyval_items("a=1,,,,x");
  REQUIRE(items.size() == 1);
  CHECK(items[0] == "a=1,,x");
}

TEST_CASE("keyval: escape_keyval_value round-trips through the parser") {
  std::string v = "a,b,,c";
  auto kv = parse_keyval("t,k=" + escape_keyval_value(v), KeyvalType::kLeading);
  REQUIRE(kv.ok());
  CHECK(kv->get("k") == v);
}

TEST_CASE("keyval: repeated keys are kept for the caller to judge") {
  auto kv = parse_keyval("nat,id=n,hostfwd=tcp::1-:2,hostfwd=udp::3-:4", KeyvalType::kLeading);
  REQUIRE(kv.ok());
  CHECK(kv->count("hostfwd") == 2);
  CHECK(kv->find("hostfwd")->value == "tcp::1-:2");
}

TEST_CASE("keyval: explicit type= is the same as the leading word") {
  auto kv = parse_keyval("type=tap,id=t0,ifname=tap0", KeyvalType::kLeading);
  REQUIRE(kv.ok());
  CHECK(kv->type == "tap");
  CHECK(kv->find("type") == nullptr);

  auto both = parse_keyval("tap,type=nat,id=t0", KeyvalType::kLeading);
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().code == ConfigError::kDuplicateKey);
  CHECK(both.error().message == "type given twice ('tap' and 'nat')");
}

TEST_CASE("keyval: syntax errors") {
  struct Case {
    const char* text;
    KeyvalType rule;
    const char* message;
  };
  const Case cases[] = {
      {"", KeyvalType::kLeading, "empty spec"},
      {"id=vm0,path=x", KeyvalType::kLeading,
       "missing type: a spec starts with its type, e.g. 'vhost-user,id=vm0,...'"},
      {"vhost-user,id=vm0,server", KeyvalType::kLeading,
       "'server' has no value (write server=on or server=VALUE)"},
      {"port=vm0,verbose", KeyvalType::kNone,
       "'verbose' has no value (write verbose=on or verbose=VALUE)"},
      {"vm0.pcap", KeyvalType::kNone, "'vm0.pcap' is not KEY=VALUE"},
      {"tap,id=t0,", KeyvalType::kLeading, "empty item 3 (stray ',' ?)"},
      // ",," escapes, so this is one item whose key is "tap,id".
      {"tap,,id=t0", KeyvalType::kLeading, "bad key 'tap,id' (keys are lower-case words)"},
      {"tap,id=", KeyvalType::kLeading, "key 'id' has an empty value"},
      {"tap,=x", KeyvalType::kLeading, "item '=x' has no key"},
      {"tap,Id=x", KeyvalType::kLeading, "bad key 'Id' (keys are lower-case words)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto kv = parse_keyval(c.text, c.rule);
    REQUIRE_FALSE(kv.ok());
    CHECK(kv.error().code == ConfigError::kSyntax);
    CHECK(kv.error().message == c.message);
  }
}

TEST_CASE("suggest: edit distance and did-you-mean") {
  CHECK(edit_distance("sever", "server") == 1);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(edit_distance("kitten", "sitting") == 3);
  std::string_view keys[] = {"id", "path", "server", "queues", "thread"};
  CHECK(did_you_mean("sever", keys) == " (did you mean 'server'?)");
  CHECK(did_you_mean("treads", keys) == " (did you mean 'thread'?)");
  CHECK(did_you_mean("queue", keys) == " (did you mean 'queues'?)");
  CHECK(did_you_mean("bogus", keys).empty());
  CHECK(did_you_mean("ix", keys).empty());  // one edit from "id", but half the word
  CHECK(did_you_mean("que", keys) == " (did you mean 'queues'?)");  // a prefix
  CHECK(did_you_mean("pa", keys).empty());  // too short to be a telling prefix
}
