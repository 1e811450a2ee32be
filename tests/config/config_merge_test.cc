// SPDX-License-Identifier: MIT
// Merge tests: flags win over the file, defaults, the built-in vm0 port, whole-config checks.
#include <doctest/doctest.h>

#include "config/config_file.h"
#include "config/config_merge.h"
#include "config/limits.h"
#include "config/nat_port_spec.h"
#include "config/runtime_paths.h"
#include "config/vhost_user_port_spec.h"
#include "tests/config/temp_dir.h"

using namespace uvs::config;

namespace {

Environment test_env(const uvs::config::test::TempDir& dir, unsigned cpus = 4) {
  return Environment{cpus, dir.path()};
}

ConfigLayer flags_with(std::initializer_list<std::pair<const char*, const char*>> opts) {
  ConfigLayer l;
  for (auto [k, v] : opts) {
    auto r = l.set_option(k, v, std::string("--") + k);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  }
  return l;
}

}  // namespace

TEST_CASE("runtime dir rule") {
  CHECK(runtime_dir_for("/run/user/1000", 1000) == "/run/user/1000/uvswitch");
  CHECK(runtime_dir_for("", 1000) == "/tmp/uvswitch-1000");
  CHECK(runtime_dir_for(nullptr, 1000) == "/tmp/uvswitch-1000");
  CHECK(runtime_dir_for(nullptr, 0) == "/run/uvswitch");
  CHECK(runtime_dir_for("/x", 0) == "/x/uvswitch");
  CHECK(default_control_path() == default_runtime_dir() + "/control.sock");
}

TEST_CASE("merge: defaults and the built-in vm0 port") {
  uvs::config::test::TempDir dir;
  auto cfg = merge_config(ConfigLayer{}, ConfigLayer{}, test_env(dir, 3));
  REQUIRE(cfg.ok());
  CHECK(cfg->threads == 3);
  CHECK(cfg->threads_from_cpus);
  // A large host gets a bounded default; the user may still ask for more.
  CHECK(merge_config(ConfigLayer{}, ConfigLayer{}, test_env(dir, 128))->threads ==
        uvs::config::kDefaultMaxThreads);
  CHECK(cfg->poll_max_ns == 32768);
  CHECK(cfg->poll_grow == 2);
  CHECK(cfg->poll_shrink == 2);
  CHECK(cfg->log_level == LogLevel::kInfo);
  CHECK(cfg->fdb_aging_s == 300);
  CHECK(cfg->control_path == dir.file("control.sock"));
  CHECK(cfg->runtime_dir == dir.path());
  CHECK(cfg->default_ports);
  REQUIRE(cfg->ports.size() == 2);
  CHECK(cfg->ports[0].id == "vm0");
  const auto& v = cfg->ports[0].backend.get<VhostUserPortSpec>();
  CHECK(v.path == dir.file("vm0.sock"));
  CHECK(v.server);
  CHECK(cfg->ports[1].id == "nat0");
  const auto& n = cfg->ports[1].backend.get<NatPortSpec>();
  CHECK(n.net.to_string() == "10.0.2.0/24");
  CHECK(n.host.to_string() == "10.0.2.2");
  CHECK(n.dhcp_start.to_string() == "10.0.2.15");
  CHECK(cfg->captures.empty());
}

TEST_CASE("merge: flags win over the file") {
  uvs::config::test::TempDir dir;
  auto file = parse_config_text(
      "threads = 2\npoll-max-ns = 1000\nlog-level = \"warn\"\n"
      "[[port]]\ntype = \"vhost-user\"\nid = \"vm0\"\npath = \"" +
          dir.file("file-vm0.sock") +
          "\"\n"
          "[[port]]\ntype = \"tap\"\nid = \"t0\"\nifname = \"tap0\"\n"
          "[[capture]]\nport = \"t0\"\nfile = \"" +
          dir.file("t0.pcap") + "\"\nsnaplen = 64\n",
      "u.toml");
  REQUIRE(file.ok());
  ConfigLayer flags = flags_with({{"threads", "3"}, {"log-level", "trace"}});
  REQUIRE(flags.add_port_text("vhost-user,id=vm0,path=" + dir.file("flag-vm0.sock") + ",queues=2")
              .ok());
  REQUIRE(flags.add_port_text("vhost-user,id=vm1,path=" + dir.file("vm1.sock")).ok());
  REQUIRE(flags.add_capture_text("port=vm1,file=" + dir.file("t0.pcap") + ",snaplen=128").ok());

  auto cfg = merge_config(*file, flags, test_env(dir));
  REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
  CHECK(cfg->threads == 3);
  CHECK_FALSE(cfg->threads_from_cpus);
  CHECK(cfg->poll_max_ns == 1000);  // only the file set it
  CHECK(cfg->log_level == LogLevel::kTrace);
  CHECK_FALSE(cfg->default_ports);
  REQUIRE(cfg->ports.size() == 3);
  // The flag's vm0 replaced the file's (whole spec, not key by key), in the file's position.
  CHECK(cfg->ports[0].id == "vm0");
  CHECK(cfg->ports[0].backend.get<VhostUserPortSpec>().path == dir.file("flag-vm0.sock"));
  CHECK(cfg->ports[0].backend.get<VhostUserPortSpec>().queues == 2);
  CHECK(cfg->ports[1].id == "t0");
  CHECK(cfg->ports[2].id == "vm1");
  // The flag capture on the same file replaced the file's.
  REQUIRE(cfg->captures.size() == 1);
  CHECK(cfg->captures[0].port == "vm1");
  CHECK(cfg->captures[0].snaplen == 128);
}

TEST_CASE("merge: a --port that repeats an id on the command line is an error") {
  ConfigLayer flags;
  REQUIRE(flags.add_port_text("tap,id=t0,ifname=tap0").ok());
  auto r = flags.add_port_text("tap,id=t0,ifname=tap1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kDuplicateId);
  CHECK(r.error().message == "--port t0: duplicate port id 't0' (already defined by --port t0)");
  REQUIRE(flags.add_capture_text("port=t0,file=/tmp/x.pcap").ok());
  auto c = flags.add_capture_text("port=t0,file=/tmp/x.pcap,dir=in");
  CHECK(c.error().message ==
        "--capture 'port=t0,file=/tmp/x.pcap,dir=in': file '/tmp/x.pcap' is already written by "
        "--capture 'port=t0,file=/tmp/x.pcap'");
}

TEST_CASE("flag errors name the flag") {
  ConfigLayer flags;
  auto r = flags.add_port_text("vhost-user,id=vm0,path=/tmp/x.sock,sever=on");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "--port vm0: unknown key 'sever' (did you mean 'server'?)");
  CHECK(flags.add_port_text("vhost-user,path=/tmp/x.sock").error().message ==
        "--port 'vhost-user,path=/tmp/x.sock': missing required key 'id'");
  CHECK(flags.add_port_text("id=vm0").error().message ==
        "--port 'id=vm0': missing type: a spec starts with its type, e.g. 'vhost-user,id=vm0,...'");
  CHECK(flags.add_capture_text("port=vm0,file=/tmp/a.pcap,snaplen=x").error().message ==
        "--capture 'port=vm0,file=/tmp/a.pcap,snaplen=x': snaplen: 'x' is not a number");
  CHECK(flags.set_option("threads", "abc", "--threads").error().message ==
        "--threads: 'abc' is not a number");
  CHECK(flags.set_option("threads", "0", "--threads").error().message ==
        "--threads: 0 is out of range 1..256");
  CHECK(flags.set_option("poll-max-ns", "-5", "--poll-max-ns").error().message ==
        "--poll-max-ns: '-5' is not a number");
  CHECK(flags.set_option("poll-max-ns", "2000000000", "--poll-max-ns").error().message ==
        "--poll-max-ns: 2000000000 is out of range 0..1000000000");
  CHECK(flags.set_option("poll-grow", "2048", "--poll-grow").error().code ==
        ConfigError::kOutOfRange);
  CHECK(flags.set_option("log-level", "verbose", "--log-level").error().message ==
        "--log-level: 'verbose' is not a log level (error, warn, info, debug, trace)");
  CHECK(flags.set_option("fdb-aging", "x", "--fdb-aging").error().key == "fdb-aging");
  CHECK(flags.set_option("treads", "2", "--treads").error().message ==
        "--treads: unknown key 'treads' (did you mean 'threads'?)");
  CHECK(flags.set_option("control", "", "--control").error().message ==
        "--control: empty socket path");
}

TEST_CASE("merge: threads= of a vhost-user port must name existing threads") {
  uvs::config::test::TempDir dir;
  ConfigLayer flags = flags_with({{"threads", "2"}});
  REQUIRE(flags.add_port_text("vhost-user,id=vm0,path=" + dir.path() + "/vm0.sock,queues=4,threads=0-2").ok());
  auto r = merge_config(ConfigLayer{}, flags, test_env(dir));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kOutOfRange);
  CHECK(r.error().key == "threads");
  CHECK(r.error().message ==
        "--port vm0: threads= names thread 2 but there are 2 I/O threads (0..1); raise --threads "
        "or change threads=");
  ConfigLayer ok = flags_with({{"threads", "2"}});
  REQUIRE(ok.add_port_text("vhost-user,id=vm0,path=" + dir.path() + "/vm0.sock,queues=4,threads=1:0").ok());
  CHECK(merge_config(ConfigLayer{}, ok, test_env(dir)).ok());
}

TEST_CASE("merge: threads=auto fits any thread count, one thread included") {
  uvs::config::test::TempDir dir;
  ConfigLayer one = flags_with({{"threads", "1"}});
  REQUIRE(one.add_port_text("vhost-user,id=vm0,path=" + dir.path() + "/vm0.sock,queues=4,threads=auto").ok());
  auto r = merge_config(ConfigLayer{}, one, test_env(dir));
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  REQUIRE(r->ports.size() == 1);
  CHECK(r->ports[0].backend.get<VhostUserPortSpec>().threads_auto);
}

TEST_CASE("merge: thread index must be below the thread count") {
  uvs::config::test::TempDir dir;
  ConfigLayer flags = flags_with({{"threads", "2"}});
  REQUIRE(flags.add_port_text("tap,id=t0,ifname=tap0,thread=2").ok());
  auto r = merge_config(ConfigLayer{}, flags, test_env(dir));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kOutOfRange);
  CHECK(r.error().message ==
        "--port t0: thread=2 but there are 2 I/O threads (0..1); raise --threads or lower thread=");
  ConfigLayer one = flags_with({{"threads", "1"}});
  REQUIRE(one.add_port_text("tap,id=t0,ifname=tap0,thread=1").ok());
  CHECK(
      merge_config(ConfigLayer{}, one, test_env(dir)).error().message ==
      "--port t0: thread=1 but there is 1 I/O thread (index 0); raise --threads or lower thread=");
  // Without --threads the CPU count decides.
  ConfigLayer cpus;
  REQUIRE(cpus.add_port_text("tap,id=t0,ifname=tap0,thread=3").ok());
  CHECK(merge_config(ConfigLayer{}, cpus, test_env(dir, 4)).ok());
  CHECK_FALSE(merge_config(ConfigLayer{}, cpus, test_env(dir, 3)).ok());
}

TEST_CASE("merge: shared paths, ifnames and addresses are refused") {
  uvs::config::test::TempDir dir;
  ConfigLayer a;
  REQUIRE(a.add_port_text("vhost-user,id=vm0,path=" + dir.file("x.sock")).ok());
  REQUIRE(a.add_port_text("stream,id=s0,path=" + dir.file("x.sock")).ok());
  CHECK(merge_config(ConfigLayer{}, a, test_env(dir)).error().message ==
        "--port s0: path '" + dir.file("x.sock") + "' is already used by port vm0");

  ConfigLayer b = flags_with({{"control", "/tmp/uvs-merge-ctl.sock"}});
  REQUIRE(b.add_port_text("vhost-user,id=vm0,path=/tmp/uvs-merge-ctl.sock").ok());
  CHECK(merge_config(ConfigLayer{}, b, test_env(dir)).error().message ==
        "--port vm0: path '/tmp/uvs-merge-ctl.sock' is already used by the control socket");

  ConfigLayer c;
  REQUIRE(c.add_port_text("tap,id=t0,ifname=tap0").ok());
  REQUIRE(c.add_port_text("tap,id=t1,ifname=tap0").ok());
  CHECK(merge_config(ConfigLayer{}, c, test_env(dir)).error().message ==
        "--port t1: ifname=tap0 is already used by port t0");

  ConfigLayer d;
  REQUIRE(d.add_port_text("dgram,id=d0,local=127.0.0.1:5000,remote=127.0.0.1:5001").ok());
  REQUIRE(d.add_port_text("dgram,id=d1,local=127.0.0.1:5000,remote=127.0.0.1:5002").ok());
  CHECK(merge_config(ConfigLayer{}, d, test_env(dir)).error().code == ConfigError::kConflict);
}

TEST_CASE("merge: captures must name an existing port") {
  uvs::config::test::TempDir dir;
  ConfigLayer flags;
  REQUIRE(flags.add_port_text("tap,id=t0,ifname=tap0").ok());
  REQUIRE(flags.add_port_text("tap,id=t1,ifname=tap1").ok());
  REQUIRE(flags.add_capture_text("port=vm9,file=" + dir.file("a.pcap")).ok());
  auto r = merge_config(ConfigLayer{}, flags, test_env(dir));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kUnknownPort);
  CHECK(r.error().message == "--capture 'port=vm9,file=" + dir.file("a.pcap") +
                                 "': port 'vm9' does not exist (ports: t0, t1)");
  // The built-in vm0 counts as a port.
  ConfigLayer cap;
  REQUIRE(cap.add_capture_text("port=vm0,file=" + dir.file("a.pcap")).ok());
  CHECK(merge_config(ConfigLayer{}, cap, test_env(dir)).ok());
}

TEST_CASE("merge: defaults that collide with existing files are reported") {
  uvs::config::test::TempDir dir;
  dir.write("control.sock", "not a socket");
  auto r = merge_config(ConfigLayer{}, ConfigLayer{}, test_env(dir));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kBadPath);
  CHECK(r.error().message ==
        "default control socket: '" + dir.file("control.sock") +
            "' exists and is not a socket (refusing to replace it with a socket)");
  uvs::config::test::TempDir dir2;
  dir2.write("vm0.sock", "x");
  CHECK(merge_config(ConfigLayer{}, ConfigLayer{}, test_env(dir2)).error().message ==
        "default port vm0: '" + dir2.file("vm0.sock") +
            "' exists and is not a socket (refusing to replace it with a socket)");
}
