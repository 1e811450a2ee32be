// SPDX-License-Identifier: MIT
// Config file tests: TOML keys map onto the flag parsers; errors carry file:line and the key.
#include <doctest/doctest.h>

#include "config/config_file.h"
#include "config/nat_port_spec.h"
#include "config/port_types.h"
#include "config/stream_port_spec.h"
#include "config/vhost_user_port_spec.h"
#include "tests/config/temp_dir.h"

using namespace uvs::config;

namespace {
std::string error_of(const std::string& toml) {
  auto r = parse_config_text(toml, "u.toml");
  return r.ok() ? std::string() : r.error().message;
}
}  // namespace

TEST_CASE("config file: top-level options, ports and captures") {
  auto layer = parse_config_text(R"(
threads = 2
poll-max-ns = 50000
poll-grow = 4
poll-shrink = 0
log-level = "debug"
control = "/tmp/uvs-test-ctl.sock"
fdb-aging = 60

[[port]]
type = "vhost-user"
id = "vm0"
path = "/tmp/uvs-test-vm0.sock"
server = false
queues = 2
threads = [1, 0]
trunk = [10, 20]

[[port]]
type = "nat"
id = "nat0"
hostfwd = ["tcp:127.0.0.1:2222-:22", "udp::5353-:53"]
ipv6 = "off"

[[capture]]
port = "vm0"
file = "/tmp/vm0.pcap"
snaplen = 96
)",
                                 "u.toml");
  REQUIRE_MESSAGE(layer.ok(), (layer.ok() ? "" : layer.error().message));
  CHECK(layer->threads->value == 2);
  CHECK(layer->threads->origin == "u.toml:2: threads");
  CHECK(layer->poll_max_ns->value == 50000);
  CHECK(layer->poll_grow->value == 4);
  CHECK(layer->poll_shrink->value == 0);
  CHECK(layer->log_level->value == LogLevel::kDebug);
  CHECK(layer->control_path->value == "/tmp/uvs-test-ctl.sock");
  CHECK(layer->fdb_aging_s->value == 60);
  REQUIRE(layer->ports.size() == 2);
  const PortSpec& vm0 = layer->ports[0].value;
  CHECK(vm0.id == "vm0");
  CHECK_FALSE(vm0.backend.get<VhostUserPortSpec>().server);
  CHECK(vm0.backend.get<VhostUserPortSpec>().queues == 2);
  CHECK(vm0.backend.get<VhostUserPortSpec>().threads == std::vector<unsigned>{1, 0});
  CHECK(vm0.vlan.trunk == std::vector<uint16_t>{10, 20});
  CHECK(layer->ports[0].origin == "u.toml:10: port vm0");
  const auto& nat = layer->ports[1].value.backend.get<NatPortSpec>();
  REQUIRE(nat.hostfwd.size() == 2);
  CHECK(nat.hostfwd[1].proto == FwdProto::kUdp);
  CHECK_FALSE(nat.ipv6);
  REQUIRE(layer->captures.size() == 1);
  CHECK(layer->captures[0].value.snaplen == 96);
}

TEST_CASE("config file: threads = \"auto\" spreads a vhost-user port's pairs automatically") {
  auto layer = parse_config_text(R"(
[[port]]
type = "vhost-user"
id = "vm0"
path = "/tmp/uvs-test-vm0.sock"
queues = 4
threads = "auto"
)",
                                 "u.toml");
  REQUIRE_MESSAGE(layer.ok(), (layer.ok() ? "" : layer.error().message));
  REQUIRE(layer->ports.size() == 1);
  const auto& vu = layer->ports[0].value.backend.get<VhostUserPortSpec>();
  CHECK(vu.threads_auto);
  CHECK(vu.threads.empty());
  CHECK(error_of("[[port]]\ntype = \"vhost-user\"\nid = \"vm0\"\npath = \"/tmp/x.sock\"\n"
                 "queues = 2\nthreads = \"auto\"\nthread = 1\n")
            .find("thread and threads exclude each other") != std::string::npos);
}

TEST_CASE("config file: keyval strings are accepted as port and capture entries") {
  auto layer = parse_config_text(R"(
port = ["tap,id=t0,ifname=tap0", "stream,id=s0,addr=127.0.0.1:7000"]
capture = ["port=t0,file=/tmp/t0.pcap,dir=in"]
)",
                                 "u.toml");
  REQUIRE(layer.ok());
  REQUIRE(layer->ports.size() == 2);
  CHECK(layer->ports[1].value.type == &kStreamPortType);
  CHECK(layer->captures[0].value.dir == CaptureDir::kIn);
}

TEST_CASE("config file: errors point at file:line and name the key") {
  CHECK(error_of("threads = 2\nthread = 3\n") ==
        "u.toml:2: unknown key 'thread' (did you mean 'threads'?)");
  CHECK(error_of("\n\nthreads = \"many\"\n") == "u.toml:3: threads: 'many' is not a number");
  CHECK(error_of("threads = 0\n") == "u.toml:1: threads: 0 is out of range 1..256");
  CHECK(error_of("threads = 1.5\n") ==
        "u.toml:1: threads: expected a string, integer or boolean, not a floating-point number");
  CHECK(error_of("log-level = \"loud\"\n") ==
        "u.toml:1: log-level: 'loud' is not a log level (error, warn, info, debug, trace)");
  CHECK(error_of("bogus = 1\n") == "u.toml:1: unknown key 'bogus'");
  CHECK(error_of("ports = 1\n") == "u.toml:1: unknown key 'ports' (did you mean 'port'?)");

  // The line of the offending key inside a [[port]] table.
  std::string bad_key = R"([[port]]
type = "vhost-user"
id = "vm0"
path = "/tmp/x.sock"
sever = true
)";
  auto r = parse_config_text(bad_key, "u.toml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kUnknownKey);
  CHECK(r.error().message == "u.toml:5: port vm0: unknown key 'sever' (did you mean 'server'?)");

  CHECK(error_of("[[port]]\ntype = \"vhost-user\"\nid = \"vm0\"\n") ==
        "u.toml:1: port vm0: missing required key 'path' (unix socket) or 'fd' (inherited "
        "socket)");
  CHECK(error_of("[[port]]\nid = \"vm0\"\npath = \"/tmp/x\"\n") ==
        "u.toml:1: port: missing required key 'type' (vhost-user, tap, stream, dgram, nat, vxlan or dpdk)");
  CHECK(error_of("[[port]]\ntype = \"tap\"\nid = \"t0\"\nifname = \"tap0\"\nvlan = 4095\n") ==
        "u.toml:5: port t0: vlan: '4095' is not a VLAN id (1..4094; 0 and 4095 are reserved)");
  CHECK(error_of("[[port]]\ntype = \"tap\"\nid = \"t0\"\nifname = [\"a\"]\n") ==
        "u.toml:1: port: ifname: expected a string, integer or boolean, not an array");
  CHECK(error_of(
            "[[port]]\ntype = \"nat\"\nid = \"n\"\nnet = \"10.0.2.0/24\"\nhost = \"10.9.9.9\"\n") ==
        "u.toml:5: port n: host=10.9.9.9 is outside net=10.0.2.0/24");
  CHECK(error_of("[[port]]\ntype = \"vhost-user\"\nid = \"a\"\npath = \"/tmp/a\"\n"
                 "[[port]]\ntype = \"vhost-user\"\nid = \"a\"\npath = \"/tmp/b\"\n") ==
        "u.toml:5: port a: duplicate port id 'a' (already defined by u.toml:1: port a)");
  CHECK(error_of("[port]\ntype = \"tap\"\n") ==
        "u.toml:1: 'port' must be an array of tables: write [[port]] (double brackets), one per "
        "port");
  CHECK(error_of("[[capture]]\nport = \"vm0\"\nfile = \"/tmp/a.pcap\"\nsnaplen = 0\n") ==
        "u.toml:4: capture of 'vm0': snaplen: 0 is out of range 1..262144");
  CHECK(error_of("port = [\"tap,id=t0,ifname=tap0,vnet-hdr=on,treads=1\"]\n") ==
        "u.toml:1: port t0: unknown key 'treads' (did you mean 'thread'?)");
}

TEST_CASE("config file: TOML syntax errors and unreadable files") {
  auto r = parse_config_text("threads = 2\n[[port]\n", "u.toml");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kSyntax);
  CHECK(r.error().message.rfind("u.toml:2: TOML syntax error: ", 0) == 0);

  auto missing = load_config_file("/nonexistent/uvswitch.toml");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ConfigError::kFile);
  CHECK(missing.error().message ==
        "--config /nonexistent/uvswitch.toml: cannot read: No such file or directory");

  uvs::config::test::TempDir dir;
  std::string path = dir.write("u.toml", "threads = 3\n");
  auto ok = load_config_file(path);
  REQUIRE(ok.ok());
  CHECK(ok->threads->value == 3);
  CHECK(ok->threads->origin == path + ":1: threads");
}
