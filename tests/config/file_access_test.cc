// SPDX-License-Identifier: MIT
// Access settings: octal modes, groups, --user USER[:GROUP], the socket mode=/group= keys and
// the privilege options, with the named errors for bad values.
#include <doctest/doctest.h>

#include <string>

#include "config/config_layer.h"
#include "config/config_merge.h"
#include "config/file_access.h"
#include "config/port_spec.h"
#include "config/port_spec_parser.h"
#include "config/stream_port_spec.h"
#include "config/vhost_user_port_spec.h"
#include "tests/config/temp_dir.h"

using namespace uvs::config;

namespace {

std::string error_of(const std::string& text) {
  auto r = parse_port_spec(text);
  return r.ok() ? std::string() : r.error().message;
}

}  // namespace

TEST_CASE("file modes are octal, at most 0777") {
  CHECK(*parse_file_mode("0660") == 0660);
  CHECK(*parse_file_mode("600") == 0600);
  CHECK(*parse_file_mode("0") == 0);
  CHECK(file_mode_text(0640) == "0640");
  for (const char* bad : {"", "0o660", "888", "1777", "06600", "rw-rw----", "-1"}) {
    CAPTURE(bad);
    auto r = parse_file_mode(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ConfigError::kBadValue);
  }
}

TEST_CASE("groups and users resolve by name or number; unknown ones are named") {
  // Every Debian system has root (0) and nogroup/nobody (65534).
  CHECK(parse_group("root")->gid == 0);
  CHECK(parse_group("4242")->gid == 4242);  // a number needs no entry
  CHECK(parse_group("no-such-group-uvs").error().message == "no group named 'no-such-group-uvs'");
  auto u = parse_user("nobody");
  REQUIRE(u.ok());
  CHECK(u->uid == 65534);
  CHECK(u->gid == 65534);
  auto ug = parse_user("nobody:root");
  REQUIRE(ug.ok());
  CHECK(ug->uid == 65534);
  CHECK(ug->gid == 0);
  CHECK(parse_user("4243:4244")->uid == 4243);
  CHECK(parse_user("no-such-user-uvs").error().message == "no user named 'no-such-user-uvs'");
  CHECK(parse_user("nobody:no-such-group-uvs").error().message ==
        "no group named 'no-such-group-uvs'");
  CHECK(parse_user("4243").error().message == "no user named '4243'");
  CHECK_FALSE(parse_user(":root").ok());
}

TEST_CASE("vhost-user and stream sockets take mode= and group=; other sockets refuse them") {
  auto v = parse_port_spec("vhost-user,id=vm0,path=/tmp/v.sock,mode=0660,group=root");
  REQUIRE_MESSAGE(v.ok(), v.error().message);
  const auto& vu = v->backend.get<VhostUserPortSpec>();
  CHECK(vu.mode == 0660u);
  CHECK(vu.group->gid == 0);
  auto again = parse_port_spec(to_keyval(*v));
  REQUIRE(again.ok());
  CHECK(*again == *v);

  auto s = parse_port_spec("stream,id=s0,path=/tmp/s.sock,mode=0600");
  REQUIRE(s.ok());
  CHECK(s->backend.get<StreamPortSpec>().mode == 0600u);

  CHECK(error_of("vhost-user,id=vm0,path=/tmp/v.sock,mode=0999") ==
        "mode: '0999' is not an octal mode of at most 0777 (e.g. 0660)");
  CHECK(error_of("vhost-user,id=vm0,path=/tmp/v.sock,group=no-such-group-uvs") ==
        "group: no group named 'no-such-group-uvs'");
  CHECK(error_of("vhost-user,id=vm0,path=/tmp/v.sock,server=off,mode=0660") ==
        "mode applies to a unix socket uvswitch listens on, not a client (server=off)");
  CHECK(error_of("stream,id=s0,addr=127.0.0.1:5000,group=root") ==
        "group applies to a unix socket uvswitch listens on, not TCP (addr=)");
  CHECK(error_of("tap,id=t0,ifname=uvt0,mode=0660").find("unknown key 'mode'") !=
        std::string::npos);
}

TEST_CASE("--user, --control-group, --keep-cap-net-admin and --seccomp") {
  uvs::config::test::TempDir dir;
  Environment env;
  env.online_cpus = 2;
  env.runtime_dir = dir.path();
  ConfigLayer flags;
  REQUIRE(flags.set_option("user", "nobody:nogroup", "--user").ok());
  REQUIRE(flags.set_option("control-group", "root", "--control-group").ok());
  REQUIRE(flags.set_option("keep-cap-net-admin", "on", "--keep-cap-net-admin").ok());
  REQUIRE(flags.set_option("seccomp", "on", "--seccomp").ok());
  auto cfg = merge_config(ConfigLayer{}, flags, env);
  REQUIRE_MESSAGE(cfg.ok(), cfg.error().message);
  REQUIRE(cfg->user);
  CHECK(cfg->user->uid == 65534);
  CHECK(cfg->control_group->gid == 0);
  CHECK(cfg->keep_cap_net_admin);
  CHECK(cfg->seccomp);

  // Defaults: the starting identity, nothing kept, no filter.
  auto plain = merge_config(ConfigLayer{}, ConfigLayer{}, env);
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->user);
  CHECK_FALSE(plain->control_group);
  CHECK_FALSE(plain->keep_cap_net_admin);
  CHECK_FALSE(plain->seccomp);

  ConfigLayer bad;
  CHECK(bad.set_option("user", "no-such-user-uvs", "--user").error().message ==
        "--user: no user named 'no-such-user-uvs'");
  CHECK(bad.set_option("seccomp", "maybe", "--seccomp").error().code == ConfigError::kBadBool);
  ConfigLayer keep_only;
  REQUIRE(keep_only.set_option("keep-cap-net-admin", "on", "--keep-cap-net-admin").ok());
  auto k = merge_config(ConfigLayer{}, keep_only, env);
  REQUIRE_FALSE(k.ok());
  CHECK(k.error().message ==
        "keep-cap-net-admin needs user (it keeps a capability across --user's drop)");
}
