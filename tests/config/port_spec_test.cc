// SPDX-License-Identifier: MIT
// Port spec tests: every port type's keys, defaults, validation rules and error messages.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/dgram_port_spec.h"
#include "config/dpdk_port_spec.h"
#include "config/nat_port_spec.h"
#include "config/port_spec.h"
#include "config/port_spec_parser.h"
#include "config/port_types.h"
#include "config/stream_port_spec.h"
#include "config/tap_port_spec.h"
#include "config/vhost_user_port_spec.h"
#include "config/vxlan_port_spec.h"
#include "tests/config/temp_dir.h"

using namespace uvs::config;

namespace {

// Parses `text` and returns the error message ("" if it parsed).
std::string error_of(const std::string& text) {
  auto r = parse_port_spec(text);
  return r.ok() ? std::string() : r.error().message;
}

ConfigError code_of(const std::string& text) {
  auto r = parse_port_spec(text);
  REQUIRE_FALSE(r.ok());
  return r.error().code;
}

}  // namespace

TEST_CASE("vhost-user: required keys and defaults") {
  auto p = parse_port_spec("vhost-user,id=vm0,path=/tmp/uvs-nonexistent/vm0.sock");
  REQUIRE(p.ok());
  CHECK(p->id == "vm0");
  CHECK(p->type == &kVhostUserPortType);
  CHECK_FALSE(p->thread.has_value());
  CHECK(p->vlan.mode == VlanMode::kAccess);
  CHECK(p->vlan.access_vlan == 1);
  const auto& v = p->backend.get<VhostUserPortSpec>();
  CHECK(v.path == "/tmp/uvs-nonexistent/vm0.sock");
  CHECK(v.server);
  CHECK(v.queues == 1);
  CHECK_FALSE(v.mac.has_value());
  CHECK_FALSE(v.mtu.has_value());
}

TEST_CASE("vhost-user: every key") {
  auto p = parse_port_spec(
      "vhost-user,id=vm1,path=/tmp/x.sock,server=off,queues=4,thread=1,vlan=10,"
      "mac=52:54:00:00:00:01,mtu=9000");
  REQUIRE(p.ok());
  const auto& v = p->backend.get<VhostUserPortSpec>();
  CHECK_FALSE(v.server);
  CHECK(v.queues == 4);
  CHECK(*p->thread == 1);
  CHECK(p->vlan.access_vlan == 10);
  CHECK(v.mac->to_string() == "52:54:00:00:00:01");
  CHECK(*v.mtu == 9000);
}

TEST_CASE("vhost-user: offload= turns the checksum/TSO offer on and off") {
  auto on = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,offload=on");
  REQUIRE(on.ok());
  CHECK(on->backend.get<VhostUserPortSpec>().offload);
  CHECK(*parse_port_spec(to_keyval(*on)) == *on);
  auto def = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock");
  REQUIRE(def.ok());
  CHECK(def->backend.get<VhostUserPortSpec>().offload);  // on unless asked otherwise
  auto off = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,offload=off");
  REQUIRE(off.ok());
  CHECK_FALSE(off->backend.get<VhostUserPortSpec>().offload);
  CHECK(*parse_port_spec(to_keyval(*off)) == *off);
}

TEST_CASE("vhost-user: fd= names an inherited stream socket, exclusive with path and server") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  std::string fd = std::to_string(sv[0]);
  auto p = parse_port_spec("vhost-user,id=vm0,fd=" + fd);
  REQUIRE(p.ok());
  const auto& v = p->backend.get<VhostUserPortSpec>();
  CHECK(*v.fd == sv[0]);
  CHECK(v.path.empty());
  CHECK(to_keyval(*p) == "vhost-user,id=vm0,vlan=1,fd=" + fd + ",queues=1,offload=on,migration=on");
  CHECK(*parse_port_spec(to_keyval(*p)) == *p);

  CHECK(error_of("vhost-user,id=vm0,fd=" + fd + ",path=/tmp/x.sock") ==
        "fd and path exclude each other (fd=N: an inherited socket; path=: a socket uvswitch "
        "opens)");
  CHECK(code_of("vhost-user,id=vm0,fd=" + fd + ",server=off") == ConfigError::kConflict);
  CHECK(error_of("vhost-user,id=vm0,fd=x") == "fd: 'x' is not a number");
  int dgram = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK(error_of("vhost-user,id=vm0,fd=" + std::to_string(dgram)) ==
        "fd: fd " + std::to_string(dgram) +
            " is not a stream socket (vhost-user needs SOCK_STREAM)");
  int pipefd[2];
  REQUIRE(pipe2(pipefd, O_CLOEXEC) == 0);
  CHECK(error_of("vhost-user,id=vm0,fd=" + std::to_string(pipefd[0])) ==
        "fd: fd " + std::to_string(pipefd[0]) + " is not a socket");
  close(pipefd[0]);
  CHECK(error_of("vhost-user,id=vm0,fd=" + std::to_string(pipefd[0])) ==
        "fd: fd " + std::to_string(pipefd[0]) +
            " is not open (the launcher must pass it to uvswitch)");
  close(pipefd[1]);
  close(dgram);
  close(sv[0]);
  close(sv[1]);
}

TEST_CASE("trunk ports") {
  auto p = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,trunk=10:20:30-32");
  REQUIRE(p.ok());
  CHECK(p->vlan.mode == VlanMode::kTrunk);
  CHECK(p->vlan.trunk == std::vector<uint16_t>{10, 20, 30, 31, 32});
  // The ",," escape also works as a list separator.
  auto q = parse_port_spec("tap,id=t0,ifname=tap0,trunk=10,,20");
  REQUIRE(q.ok());
  CHECK(q->vlan.trunk == std::vector<uint16_t>{10, 20});
  CHECK(
      error_of("vhost-user,id=vm0,path=/tmp/x.sock,trunk=10:4095") ==
      "trunk: in VLAN list '10:4095': '4095' is not a VLAN id (1..4094; 0 and 4095 are reserved)");
  CHECK(
      error_of("vhost-user,id=vm0,path=/tmp/x.sock,vlan=10,trunk=20") ==
      "vlan and trunk exclude each other (vlan=V: untagged access port; trunk=V1:V2: tagged port)");
}

TEST_CASE("unknown keys get a did-you-mean hint") {
  auto r = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,sever=on");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kUnknownKey);
  CHECK(r.error().key == "sever");
  CHECK(r.error().message == "unknown key 'sever' (did you mean 'server'?)");
  CHECK(error_of("tap,id=t0,ifname=tap0,vnethdr=on") ==
        "unknown key 'vnethdr' (did you mean 'vnet-hdr'?)");
  CHECK(error_of("tap,id=t0,ifname=tap0,colour=blue") ==
        "unknown key 'colour' (valid keys for a tap port: id, thread, vlan, trunk, ifname, "
        "vnet-hdr, offload, mtu, max-macs, allowed-mac, bum-rate)");
  // A key that belongs to another type is unknown here.
  CHECK(error_of("nat,id=n0,trunk=10") ==
        "unknown key 'trunk' (valid keys for a nat port: id, thread, vlan, net, host, dhcpstart, "
        "dns, ipv6, ipv6-prefix, domain, restrict, dhcp, hostfwd, mtu, dns-server, "
        "host-loopback, max-connections, max-macs, allowed-mac, bum-rate)");
}

TEST_CASE("port security keys: every type, ranges, round trip") {
  for (const std::string base :
       {"vhost-user,id=v,path=/tmp/x.sock", "tap,id=t,ifname=tap0", "stream,id=s,path=/tmp/s.sock",
        "dgram,id=d,local=127.0.0.1:5000,remote=127.0.0.1:5001", "nat,id=n"}) {
    auto p = parse_port_spec(base + ",max-macs=4,allowed-mac=52:54:00:AA:bb:01,bum-rate=500");
    REQUIRE_MESSAGE(p.ok(), base);
    CHECK(p->security.max_macs == 4u);
    CHECK(p->security.allowed_mac->to_string() == "52:54:00:aa:bb:01");
    CHECK(p->security.bum_rate == 500u);
    CHECK(*parse_port_spec(to_keyval(*p)) == *p);
    auto none = parse_port_spec(base);
    REQUIRE(none.ok());
    CHECK(none->security == PortSecurity{});
  }
  // vhost-user's mac= is the guest's address in the device config, not a lock.
  auto v = parse_port_spec("vhost-user,id=v,path=/tmp/x.sock,mac=52:54:00:00:00:01");
  REQUIRE(v.ok());
  CHECK_FALSE(v->security.allowed_mac);
  CHECK(error_of("tap,id=t,ifname=tap0,max-macs=0") ==
        "max-macs: 0 is out of range 1..65536");
  CHECK(error_of("tap,id=t,ifname=tap0,bum-rate=x") == "bum-rate: 'x' is not a number");
  CHECK(error_of("tap,id=t,ifname=tap0,allowed-mac=ff:ff:ff:ff:ff:ff") ==
        "allowed-mac: 'ff:ff:ff:ff:ff:ff' is a multicast MAC address (low bit of the first byte "
        "is set); a port needs a unicast address");
  CHECK(error_of("tap,id=t,ifname=tap0,allowed-mac=00:00:00:00:00:00") ==
        "allowed-mac: '00:00:00:00:00:00' is not a usable MAC address");
  CHECK(error_of("tap,id=t,ifname=tap0,allowed-mac=52:54") ==
        error_of("vhost-user,id=v,path=/tmp/x.sock,mac=52:54").replace(0, 3, "allowed-mac"));
  CHECK(error_of("tap,id=t,ifname=tap0,max-mac=3") ==
        "unknown key 'max-mac' (did you mean 'max-macs'?)");
}

TEST_CASE("unknown port type") {
  auto r = parse_port_spec("vhost,id=vm0");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kBadValue);
  CHECK(r.error().message == "unknown port type 'vhost' (did you mean 'vhost-user'?)");
  CHECK(error_of("socket,id=x") ==
        "unknown port type 'socket' (types: vhost-user, tap, stream, dgram, nat, vxlan, dpdk)");
}

TEST_CASE("missing and duplicate keys") {
  auto r = parse_port_spec("vhost-user,path=/tmp/x.sock");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kMissingKey);
  CHECK(r.error().message == "missing required key 'id'");
  CHECK(error_of("vhost-user,id=vm0") ==
        "missing required key 'path' (unix socket) or 'fd' (inherited socket)");
  CHECK(error_of("tap,id=t0") == "missing required key 'ifname'");
  CHECK(error_of("dgram,id=d0,local=127.0.0.1:5000") == "missing required key 'remote'");
  CHECK(error_of("stream,id=s0") ==
        "missing required key 'path' (unix socket) or 'addr' (TCP HOST:PORT)");
  auto d = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,server=on,server=off");
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().code == ConfigError::kDuplicateKey);
  CHECK(d.error().message == "key 'server' given twice ('on' and 'off')");
}

TEST_CASE("value errors name the key and the value") {
  CHECK(error_of("vhost-user,id=vm0,path=/tmp/x.sock,queues=abc") ==
        "queues: 'abc' is not a number");
  CHECK(code_of("vhost-user,id=vm0,path=/tmp/x.sock,queues=abc") == ConfigError::kBadNumber);
  CHECK(error_of("vhost-user,id=vm0,path=/tmp/x.sock,queues=0") ==
        "queues: 0 is out of range 1..64");
  CHECK(error_of("vhost-user,id=vm0,path=/tmp/x.sock,server=maybe") ==
        "server: 'maybe' is not on/off");
  CHECK(error_of("vhost-user,id=vm0,path=/tmp/x.sock,offload=yes please") ==
        "offload: 'yes please' is not on/off");
  CHECK(code_of("vhost-user,id=vm0,path=/tmp/x.sock,server=maybe") == ConfigError::kBadBool);
  CHECK(error_of("vhost-user,id=vm0,path=/tmp/x.sock,vlan=4095") ==
        "vlan: '4095' is not a VLAN id (1..4094; 0 and 4095 are reserved)");
  CHECK(code_of("vhost-user,id=vm0,path=/tmp/x.sock,vlan=0") == ConfigError::kBadVlan);
  CHECK(error_of("vhost-user,id=vm0,path=/tmp/x.sock,mac=52:54:00:00:00") ==
        "mac: '52:54:00:00:00' is not a MAC address (expected 6 hex pairs like 52:54:00:12:34:56)");
  CHECK(code_of("vhost-user,id=vm0,path=/tmp/x.sock,mac=01:00:00:00:00:01") ==
        ConfigError::kBadMac);
  CHECK(error_of("vhost-user,id=vm0,path=/tmp/x.sock,mtu=67") ==
        "mtu: 67 is out of range 68..65535");
  CHECK(error_of("vhost-user,id=vm0,path=/tmp/x.sock,thread=256") ==
        "thread: 256 is out of range 0..255");
  CHECK(error_of("tap,id=t0,ifname=waytoolonginterface") ==
        "ifname: 'waytoolonginterface' is not an interface name (1..15 characters)");
  CHECK(error_of("tap,id=t0,ifname=tap0,vnet-hdr=2") == "vnet-hdr: '2' is not on/off");
}

TEST_CASE("port ids") {
  CHECK(check_port_id("vm0").ok());
  CHECK(check_port_id("a.b-c_d").ok());
  CHECK(
      error_of("tap,id=0vm,ifname=tap0") ==
      "id: '0vm' is not a valid id (a letter, then letters, digits, '-', '_' or '.'; at most 64)");
  CHECK_FALSE(check_port_id("vm 0").ok());
  CHECK_FALSE(check_port_id(std::string(65, 'a')).ok());
  CHECK(check_port_id(std::string(64, 'a')).ok());
}

TEST_CASE("socket paths that exist and are not sockets are refused") {
  uvs::config::test::TempDir dir;
  std::string reg = dir.write("vm0.sock", "not a socket");
  auto r = parse_port_spec("vhost-user,id=vm0,path=" + reg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kBadPath);
  CHECK(r.error().key == "path");
  CHECK(r.error().message ==
        "path: '" + reg + "' exists and is not a socket (refusing to replace it with a socket)");
  CHECK(parse_port_spec("vhost-user,id=vm0,path=" + dir.make_socket("ok.sock")).ok());
  CHECK(error_of("stream,id=s0,path=" + reg) ==
        "path: '" + reg + "' exists and is not a socket (refusing to replace it with a socket)");
}

TEST_CASE("tap") {
  auto p = parse_port_spec("tap,id=t0,ifname=tap0,vnet-hdr=off,thread=0,vlan=5,mtu=1400");
  REQUIRE(p.ok());
  const auto& t = p->backend.get<TapPortSpec>();
  CHECK(t.ifname == "tap0");
  CHECK_FALSE(t.vnet_hdr);
  CHECK(*t.mtu == 1400);
  CHECK(p->vlan.access_vlan == 5);
  CHECK(parse_port_spec("tap,id=t,ifname=t")->backend.get<TapPortSpec>().vnet_hdr);
}

TEST_CASE("tap: offload= is on by default and round-trips") {
  auto def = parse_port_spec("tap,id=t0,ifname=tap0");
  REQUIRE(def.ok());
  CHECK(def->backend.get<TapPortSpec>().offload);
  auto off = parse_port_spec("tap,id=t0,ifname=tap0,offload=off");
  REQUIRE(off.ok());
  CHECK_FALSE(off->backend.get<TapPortSpec>().offload);
  CHECK(to_keyval(*off) == "tap,id=t0,vlan=1,ifname=tap0,vnet-hdr=on,offload=off");
  CHECK(*parse_port_spec(to_keyval(*off)) == *off);
  CHECK(error_of("tap,id=t0,ifname=tap0,offload=2") == "offload: '2' is not on/off");
}

TEST_CASE("stream: unix or TCP") {
  auto u = parse_port_spec("stream,id=s0,path=/tmp/s0.sock,server=off");
  REQUIRE(u.ok());
  const auto& su = u->backend.get<StreamPortSpec>();
  CHECK(su.path == "/tmp/s0.sock");
  CHECK_FALSE(su.addr.has_value());
  CHECK_FALSE(su.server);
  auto t = parse_port_spec("stream,id=s1,addr=127.0.0.1:7000");
  REQUIRE(t.ok());
  const auto& st = t->backend.get<StreamPortSpec>();
  CHECK(st.addr->to_string() == "127.0.0.1:7000");
  CHECK(st.server);
  CHECK(error_of("stream,id=s0,path=/tmp/a,addr=127.0.0.1:1") ==
        "path and addr exclude each other (path=: unix socket, addr=: TCP)");
  CHECK(code_of("stream,id=s0,path=/tmp/a,addr=127.0.0.1:1") == ConfigError::kConflict);
  CHECK(error_of("stream,id=s0,addr=localhost:80") ==
        "addr: 'localhost:80' is not IP:PORT (like 127.0.0.1:5000 or [::1]:5000)");
  CHECK(code_of("stream,id=s0,addr=localhost:80") == ConfigError::kBadHostPort);
}

TEST_CASE("dgram") {
  auto p = parse_port_spec("dgram,id=d0,local=127.0.0.1:5000,remote=127.0.0.1:5001");
  REQUIRE(p.ok());
  const auto& d = p->backend.get<DgramPortSpec>();
  CHECK(d.local.port == 5000);
  CHECK(d.remote.port == 5001);
  CHECK(parse_port_spec("dgram,id=d0,local=[::1]:5000,remote=[::1]:5001").ok());
  CHECK(error_of("dgram,id=d0,local=127.0.0.1:5000,remote=[::1]:5001") ==
        "local=127.0.0.1:5000 and remote=[::1]:5001 are different address families");
  CHECK(error_of("dgram,id=d0,local=127.0.0.1:0,remote=127.0.0.1:1") ==
        "local: '127.0.0.1:0': port 0 is out of range 1..65535");
  CHECK(error_of("dgram,id=d0,local=127.0.0.1,remote=127.0.0.1:1") ==
        "local: '127.0.0.1' is not IP:PORT (like 127.0.0.1:5000 or [::1]:5000)");
}

TEST_CASE("vxlan") {
  auto p = parse_port_spec("vxlan,id=vx0,vni=16777215,local=192.0.2.1,remote=192.0.2.2,"
                           "remote=192.0.2.3");
  REQUIRE(p.ok());
  const auto& x = p->backend.get<VxlanPortSpec>();
  CHECK(p->type == &kVxlanPortType);
  CHECK(x.vni == 16777215);
  CHECK(x.local.to_string() == "192.0.2.1");
  CHECK_FALSE(x.local_port);
  CHECK(x.dstport == 4789);
  REQUIRE(x.remotes.size() == 2);
  CHECK(x.remotes[1].to_string() == "192.0.2.3");
  CHECK_FALSE(x.mtu);
  auto q = parse_port_spec("vxlan,id=vx0,vni=1,local=192.0.2.1:5000,remote=192.0.2.2,dstport=8472");
  REQUIRE(q.ok());
  CHECK(q->backend.get<VxlanPortSpec>().local_port == 5000);
  CHECK(q->backend.get<VxlanPortSpec>().local_text() == "192.0.2.1:5000");
  CHECK(parse_port_spec("vxlan,id=vx0,vni=1,local=2001:db8::1,remote=2001:db8::2").ok());
  CHECK(parse_port_spec("vxlan,id=vx0,vni=1,local=0.0.0.0,remote=192.0.2.2").ok());

  CHECK(error_of("vxlan,id=vx0,local=192.0.2.1,remote=192.0.2.2") == "missing required key 'vni'");
  CHECK(error_of("vxlan,id=vx0,vni=16777216,local=192.0.2.1,remote=192.0.2.2") ==
        "vni: 16777216 is out of range 0..16777215");
  CHECK(error_of("vxlan,id=vx0,vni=x,local=192.0.2.1,remote=192.0.2.2") ==
        "vni: 'x' is not a number");
  CHECK(error_of("vxlan,id=vx0,vni=1,remote=192.0.2.2") == "missing required key 'local'");
  CHECK(error_of("vxlan,id=vx0,vni=1,local=192.0.2.1") == "missing required key 'remote'");
  CHECK(error_of("vxlan,id=vx0,vni=1,local=host.example,remote=192.0.2.2") ==
        "local: 'host.example' is not IP or IP:PORT (like 192.0.2.1, 192.0.2.1:4789 or "
        "[2001:db8::1]:4789)");
  CHECK(error_of("vxlan,id=vx0,vni=1,local=239.1.1.1,remote=192.0.2.2") ==
        "local: '239.1.1.1' is a multicast address");
  CHECK(error_of("vxlan,id=vx0,vni=1,local=192.0.2.1,remote=192.0.2.2:4789") ==
        "remote: '192.0.2.2:4789' is not an IP address (a VTEP is an address; the port is "
        "dstport)");
  CHECK(error_of("vxlan,id=vx0,vni=1,local=192.0.2.1,remote=239.1.1.1") ==
        "remote: '239.1.1.1' is a multicast address (multicast underlay groups are not "
        "supported: list each VTEP with its own remote=)");
  CHECK(error_of("vxlan,id=vx0,vni=1,local=192.0.2.1,remote=0.0.0.0") ==
        "remote: '0.0.0.0' is the unspecified address");
  CHECK(error_of("vxlan,id=vx0,vni=1,local=192.0.2.1,remote=2001:db8::2") ==
        "remote: '2001:db8::2' and local=192.0.2.1 are different address families");
  CHECK(error_of("vxlan,id=vx0,vni=1,local=192.0.2.1,remote=192.0.2.1") ==
        "remote: '192.0.2.1' is the local address");
  CHECK(error_of("vxlan,id=vx0,vni=1,local=192.0.2.1,remote=192.0.2.2,remote=192.0.2.2") ==
        "remote: '192.0.2.2' is given twice");
  CHECK(error_of("vxlan,id=vx0,vni=1,local=192.0.2.1,remote=192.0.2.2,dstport=0") ==
        "dstport: port 0 is out of range 1..65535");
  CHECK(error_of("vxlan,id=vx0,vni=1,local=192.0.2.1,remote=192.0.2.2,mtu=65500") ==
        "mtu: 65500 is out of range 68..65481");
  std::string many = "vxlan,id=vx0,vni=1,local=192.0.2.1";
  for (int i = 0; i < 17; ++i) many += ",remote=192.0.2." + std::to_string(10 + i);
  CHECK(error_of(many) == "remote: '192.0.2.26' is one too many (at most 16 remotes)");
}

TEST_CASE("nat: QEMU defaults derived from net") {
  auto p = parse_port_spec("nat,id=nat0");
  REQUIRE(p.ok());
  const auto& n = p->backend.get<NatPortSpec>();
  CHECK(n.net.to_string() == "10.0.2.0/24");
  CHECK(n.host.to_string() == "10.0.2.2");
  CHECK(n.dns.to_string() == "10.0.2.3");
  CHECK(n.dhcp_start.to_string() == "10.0.2.15");
  CHECK(n.ipv6);
  CHECK(n.ipv6_prefix.to_string() == "fd00::/64");
  CHECK(n.dhcp);
  CHECK_FALSE(n.restrict_guest);
  CHECK(n.hostfwd.empty());

  auto q = parse_port_spec("nat,id=nat1,net=192.168.76.0/24");
  REQUIRE(q.ok());
  const auto& m = q->backend.get<NatPortSpec>();
  CHECK(m.host.to_string() == "192.168.76.2");
  CHECK(m.dhcp_start.to_string() == "192.168.76.15");
}

TEST_CASE("nat: every key") {
  auto p = parse_port_spec(
      "nat,id=nat0,net=10.1.0.0/16,host=10.1.0.1,dhcpstart=10.1.1.100,dns=10.1.0.53,ipv6=off,"
      "ipv6-prefix=fd12:3456::/48,domain=vm.internal,restrict=on,dhcp=off,"
      "hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::5353-10.1.1.100:53,mtu=65520,"
      "dns-server=127.0.0.53:53,vlan=7,thread=0");
  REQUIRE(p.ok());
  const auto& n = p->backend.get<NatPortSpec>();
  CHECK(n.host.to_string() == "10.1.0.1");
  CHECK(n.dhcp_start.to_string() == "10.1.1.100");
  CHECK(n.dns.to_string() == "10.1.0.53");
  CHECK_FALSE(n.ipv6);
  CHECK(n.ipv6_prefix.to_string() == "fd12:3456::/48");
  CHECK(*n.domain == "vm.internal");
  CHECK(n.restrict_guest);
  CHECK_FALSE(n.dhcp);
  REQUIRE(n.hostfwd.size() == 2);
  CHECK(n.hostfwd[0].proto == FwdProto::kTcp);
  CHECK(n.hostfwd[0].host_addr->to_string() == "127.0.0.1");
  CHECK(n.hostfwd[0].host_port == 2222);
  CHECK_FALSE(n.hostfwd[0].guest_addr.has_value());
  CHECK(n.hostfwd[0].guest_port == 22);
  CHECK(n.hostfwd[1].proto == FwdProto::kUdp);
  CHECK_FALSE(n.hostfwd[1].host_addr.has_value());
  CHECK(n.hostfwd[1].guest_addr->to_string() == "10.1.1.100");
  CHECK(*n.mtu == 65520);
  CHECK(n.dns_server->to_string() == "127.0.0.53:53");
  CHECK(p->vlan.access_vlan == 7);
  // A bare IP for dns-server means port 53.
  auto d = parse_port_spec("nat,id=n,dns-server=::1");
  CHECK(d->backend.get<NatPortSpec>().dns_server->to_string() == "[::1]:53");
}

TEST_CASE("nat: addresses must lie inside net") {
  auto r = parse_port_spec("nat,id=nat0,net=10.0.2.0/24,host=10.0.3.2");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ConfigError::kBadAddress);
  CHECK(r.error().key == "host");
  CHECK(r.error().message == "host=10.0.3.2 is outside net=10.0.2.0/24");
  CHECK(error_of("nat,id=n,dns=10.0.2.255") ==
        "dns=10.0.2.255 is the broadcast address of net=10.0.2.0/24");
  CHECK(error_of("nat,id=n,dhcpstart=10.0.2.0") ==
        "dhcpstart=10.0.2.0 is the network address of net=10.0.2.0/24");
  // A default that does not fit a small net points at the key to set.
  CHECK(error_of("nat,id=n,net=10.0.2.0/28") ==
        "dhcpstart (default 10.0.2.15) is the broadcast address of net=10.0.2.0/28; set "
        "dhcpstart= explicitly");
  CHECK(parse_port_spec("nat,id=n,net=10.0.2.0/28,dhcpstart=10.0.2.8").ok());
  CHECK(error_of("nat,id=n,dhcpstart=10.0.2.2") ==
        "dhcpstart=10.0.2.2 collides with the NAT's own address (host=10.0.2.2, dns=10.0.2.3)");
  CHECK(error_of("nat,id=n,net=10.0.2.0/31") ==
        "net: 10.0.2.0/31 leaves no room for host, dns and DHCP addresses (prefix at most /30)");
  CHECK(error_of("nat,id=n,net=10.0.2.1/24") ==
        "net: '10.0.2.1/24' has host bits set (did you mean 10.0.2.0/24?)");
  CHECK(code_of("nat,id=n,net=10.0.2.0") == ConfigError::kBadCidr);
  CHECK(error_of("nat,id=n,ipv6-prefix=fd00::/127") ==
        "ipv6-prefix: fd00::/127 is too long (at most /126)");
  CHECK(error_of("nat,id=n,domain=bad_name") ==
        "domain: 'bad_name' is not a domain name (letters, digits, '-' and '.' only)");
  CHECK(error_of("nat,id=n,mtu=65522") == "mtu: 65522 is out of range 68..65521");
  CHECK(error_of("nat,id=n,dns-server=dns.google") ==
        "dns-server: 'dns.google' is not IP:PORT (like 127.0.0.1:5000 or [::1]:5000)");
}

TEST_CASE("nat: hostfwd rules") {
  auto f = parse_hostfwd("tcp:[::1]:8080-:80");
  REQUIRE(f.ok());
  CHECK(f->host_addr->family == IpFamily::kV6);
  CHECK(f->to_string() == "tcp:[::1]:8080-:80");
  CHECK(parse_hostfwd("::2222-:22")->proto == FwdProto::kTcp);  // empty protocol: tcp, as QEMU
  CHECK_FALSE(parse_hostfwd(":2222-:22").ok());  // the protocol's ':' cannot be dropped
  CHECK(parse_hostfwd("udp:127.0.0.1:53-10.0.2.15:53")->to_string() ==
        "udp:127.0.0.1:53-10.0.2.15:53");
  CHECK(parse_hostfwd("sctp::1-:2").error().message ==
        "'sctp::1-:2': protocol 'sctp' is not tcp or udp");
  const std::string shape =
      " is not a forwarding rule (expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, "
      "e.g. tcp:127.0.0.1:2222-:22)";
  for (const char* bad : {"tcp", "tcp:2222:22", "tcp::2222-22", "tcp:[::1:2222-:22"}) {
    CAPTURE(bad);
    CHECK(parse_hostfwd(bad).error().message == "'" + std::string(bad) + "'" + shape);
  }
  CHECK(parse_hostfwd("tcp::0-:22").error().message ==
        "'tcp::0-:22': host port 0 is out of range 1..65535");
  CHECK(parse_hostfwd("tcp::22-:x").error().message ==
        "'tcp::22-:x': guest port 'x' is not a number");
  CHECK(parse_hostfwd("tcp:1.2.3:22-:22").error().message ==
        "'tcp:1.2.3:22-:22': host address '1.2.3' is not an IPv4 address");

  CHECK(error_of("nat,id=n,hostfwd=tcp::2222-10.0.3.15:22") ==
        "hostfwd: 'tcp::2222-10.0.3.15:22': guest address=10.0.3.15 is outside net=10.0.2.0/24");
  CHECK(error_of("nat,id=n,hostfwd=tcp::2222-:22,hostfwd=tcp::2222-:23") ==
        "hostfwd: 'tcp::2222-:23' uses the same host port as 'tcp::2222-:22'");
  CHECK(parse_port_spec("nat,id=n,hostfwd=tcp::2222-:22,hostfwd=udp::2222-:22").ok());
  CHECK(error_of("nat,id=n,hostfwd=bogus") == "hostfwd: 'bogus'" + shape);
}

TEST_CASE("to_keyval round-trips every port type") {
  const char* specs[] = {
      "vhost-user,id=vm0,path=/tmp/x.sock",
      "vhost-user,id=vm1,path=/tmp/y,,z.sock,server=off,queues=2,mac=52:54:00:00:00:02,mtu=1500,"
      "thread=3,trunk=10:11:12:20,migration=on",
      "tap,id=t0,ifname=tap0,vnet-hdr=off,vlan=4",
      "stream,id=s0,addr=[::1]:7000,server=off",
      "stream,id=s1,path=/tmp/s1.sock",
      "dgram,id=d0,local=127.0.0.1:5000,remote=127.0.0.1:5001",
      "vxlan,id=vx0,vni=42,local=192.0.2.1,remote=192.0.2.2,remote=192.0.2.3,mtu=1400",
      "vxlan,id=vx1,vni=0,local=[2001:db8::1]:8472,remote=2001:db8::2,dstport=8472",
      "nat,id=nat0,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::53-10.0.2.20:53,domain=x.y,"
      "dns-server=127.0.0.1:53,mtu=9000",
  };
  for (const char* text : specs) {
    CAPTURE(text);
    auto p = parse_port_spec(text);
    REQUIRE(p.ok());
    std::string canon = to_keyval(*p);
    CAPTURE(canon);
    auto again = parse_port_spec(canon);
    REQUIRE(again.ok());
    CHECK(*again == *p);
  }
  auto p = parse_port_spec("vhost-user,id=vm1,path=/tmp/x.sock,trunk=10:11:12:20");
  CHECK(to_keyval(*p) == "vhost-user,id=vm1,trunk=10-12:20,path=/tmp/x.sock,server=on,queues=1,offload=on,migration=on");
  // Live migration is offered by default; migration=off withholds VHOST_F_LOG_ALL.
  auto m = parse_port_spec("vhost-user,id=vm2,path=/tmp/m.sock,migration=off");
  REQUIRE(m.ok());
  CHECK(!m->backend.get<VhostUserPortSpec>().migration);
  auto bad = parse_port_spec("vhost-user,id=vm2,path=/tmp/m.sock,migration=maybe");
  REQUIRE(!bad.ok());
  CHECK(bad.error().message.find("migration") != std::string::npos);
}

TEST_CASE("vhost-user: queues= is refused above what the backend serves, naming the key") {
  CHECK(parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,queues=64").ok());
  auto r = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,queues=65");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().key == "queues");
  CHECK(r.error().message.find("queues") != std::string::npos);
  CHECK(r.error().message.find("64") != std::string::npos);
  CHECK_FALSE(parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,queues=256").ok());
  CHECK_FALSE(parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,queues=0").ok());
}

TEST_CASE("dpdk: devargs keep their doubled commas as one value; a build without DPDK says so") {
  auto r = parse_port_spec("dpdk,id=d0,devargs=net_af_packet0,,iface=eth0,queues=2");
  if (!r.ok()) {
    // Default build: the type is known, and refused by name.
    CHECK(r.error().message ==
          "dpdk: this uvswitch was built without DPDK (configure with -DUVS_WITH_DPDK=ON)");
    return;
  }
  const auto& d = r->backend.get<DpdkPortSpec>();
  CHECK(d.devargs == "net_af_packet0,iface=eth0");
  CHECK(d.queues == 2);
  CHECK(std::string(r->type_name()) == "dpdk");
  auto again = parse_port_spec(to_keyval(*r));
  REQUIRE(again.ok());
  CHECK(*again == *r);
  CHECK(error_of("dpdk,id=d0") == "missing required key 'devargs'");
  CHECK(error_of("dpdk,id=d0,devargs=,,x=1").find("has no device name") != std::string::npos);
  CHECK(error_of("dpdk,id=d0,devargs=net_ring0,queues=65") ==
        "queues: 65 is out of range 1..64");
}

TEST_CASE("vhost-user: threads= lists the I/O threads of the queue pairs, checked by name") {
  auto p = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,queues=4,threads=0-3");
  REQUIRE(p.ok());
  CHECK(p->backend.get<VhostUserPortSpec>().threads == std::vector<unsigned>{0, 1, 2, 3});
  CHECK(to_keyval(*p) ==
        "vhost-user,id=vm0,vlan=1,path=/tmp/x.sock,server=on,queues=4,threads=0:1:2:3,offload=on,"
        "migration=on");
  CHECK(*parse_port_spec(to_keyval(*p)) == *p);
  // Order kept (the first serves the socket); single threads and ranges mix.
  p = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,queues=4,threads=3:0-1");
  REQUIRE(p.ok());
  CHECK(p->backend.get<VhostUserPortSpec>().threads == std::vector<unsigned>{3, 0, 1});
  // Without threads= nothing is spread.
  p = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,queues=4");
  REQUIRE(p.ok());
  CHECK(p->backend.get<VhostUserPortSpec>().threads.empty());

  auto key_of = [](const std::string& text) {
    auto r = parse_port_spec(text);
    return r.ok() ? std::string() : r.error().key;
  };
  const std::string base = "vhost-user,id=vm0,path=/tmp/x.sock,queues=4,";
  CHECK(error_of(base + "threads=0-4") ==
        "threads lists 5 threads but queues=4: each thread needs a queue pair of its own");
  CHECK(key_of(base + "threads=0-4") == "threads");
  CHECK(error_of(base + "threads=2-1").find("bad range '2-1'") != std::string::npos);
  CHECK(error_of(base + "threads=0:1:0") == "threads: thread list '0:1:0' names thread 0 twice");
  CHECK(key_of(base + "threads=x") == "threads");
  CHECK(key_of(base + "threads=0-") == "threads");
  CHECK(key_of(base + "threads=") == "threads");
  CHECK(key_of(base + "threads=300") == "threads");
  CHECK(error_of(base + "threads=0-1,thread=1").find("thread and threads exclude each other") !=
        std::string::npos);
  CHECK(key_of("tap,id=t0,ifname=t0,threads=0-1") == "threads");
}

TEST_CASE("vhost-user: threads=auto leaves the threads to the daemon and writes back as auto") {
  auto p = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,queues=4,threads=auto");
  REQUIRE(p.ok());
  const auto& vu = p->backend.get<VhostUserPortSpec>();
  CHECK(vu.threads_auto);
  CHECK(vu.threads.empty());
  CHECK(to_keyval(*p) ==
        "vhost-user,id=vm0,vlan=1,path=/tmp/x.sock,server=on,queues=4,threads=auto,offload=on,"
        "migration=on");
  CHECK(*parse_port_spec(to_keyval(*p)) == *p);
  // One queue pair: still accepted, it runs on one thread.
  p = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,threads=auto");
  REQUIRE(p.ok());
  CHECK(p->backend.get<VhostUserPortSpec>().threads_auto);
  // A list is not auto.
  p = parse_port_spec("vhost-user,id=vm0,path=/tmp/x.sock,queues=2,threads=0:1");
  REQUIRE(p.ok());
  CHECK_FALSE(p->backend.get<VhostUserPortSpec>().threads_auto);

  const std::string base = "vhost-user,id=vm0,path=/tmp/x.sock,queues=4,";
  CHECK(error_of(base + "threads=auto,thread=1").find("thread and threads exclude each other") !=
        std::string::npos);
  CHECK(error_of(base + "threads=auto:1") ==
        "threads: in thread list 'auto:1': 'auto' is not a number");
  CHECK(error_of(base + "threads=AUTO").find("'AUTO' is not a number") != std::string::npos);
  CHECK(!parse_port_spec("tap,id=t0,ifname=t0,threads=auto").ok());
}
