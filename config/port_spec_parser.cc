// SPDX-License-Identifier: MIT
// Port spec parsing and per-type validation (vhost-user, tap, stream, dgram, nat, vxlan, dpdk).
#include "config/port_spec_parser.h"

#include <array>
#include <iterator>
#include <vector>

#include "config/fd_check.h"
#include "config/key_reader.h"
#include "config/limits.h"
#include "config/path_check.h"
#include "config/suggest.h"
#include "config/value_parser.h"

namespace uvs::config {
namespace {

constexpr std::array<std::string_view, 7> kTypeNames = {"vhost-user", "tap", "stream", "dgram",
                                                        "nat",        "vxlan", "dpdk"};

constexpr KeyRule kVhostUserKeys[] = {{"id"},     {"thread"}, {"vlan"}, {"trunk"}, {"path"},
                                      {"fd"},     {"server"}, {"queues"}, {"mac"}, {"mtu"},
                                      {"mode"},   {"group"}, {"offload"}, {"migration"}};
constexpr KeyRule kTapKeys[] = {{"id"},     {"thread"},   {"vlan"}, {"trunk"},
                                {"ifname"}, {"vnet-hdr"}, {"offload"},
                                {"mtu"}};
constexpr KeyRule kStreamKeys[] = {{"id"},   {"thread"}, {"vlan"},  {"trunk"},
                                   {"path"}, {"addr"},   {"server"}, {"mode"}, {"group"}};
constexpr KeyRule kDgramKeys[] = {{"id"}, {"thread"}, {"vlan"}, {"trunk"}, {"local"}, {"remote"}};
constexpr KeyRule kVxlanKeys[] = {{"id"},    {"thread"},       {"vlan"},    {"trunk"}, {"vni"},
                                  {"local"}, {"remote", true}, {"dstport"}, {"mtu"}};
constexpr KeyRule kDpdkKeys[] = {{"id"}, {"thread"}, {"vlan"}, {"trunk"}, {"devargs"}, {"queues"}};
constexpr KeyRule kNatKeys[] = {
    {"id"},        {"thread"}, {"vlan"},          {"net"},         {"host"},
    {"dhcpstart"}, {"dns"},    {"ipv6"},          {"ipv6-prefix"}, {"domain"},
    {"restrict"},  {"dhcp"},   {"hostfwd", true}, {"mtu"},         {"dns-server"},
    {"host-loopback"}, {"max-connections"}};

// Port security keys every type takes (PortSecurity).
constexpr KeyRule kSecurityKeys[] = {{"max-macs"}, {"allowed-mac"}, {"bum-rate"}};

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

Result<uint16_t> parse_port_number(std::string_view text) {
  auto p = parse_uint(text, 1, 65535);
  if (!p) return Error::make(p.error().code, "port " + p.error().message);
  return static_cast<uint16_t>(*p);
}

// dns-server takes IP:PORT, or a bare IP meaning port 53 (RFC 1035 4.2).
Result<SocketAddr> parse_dns_server(std::string_view text) {
  if (auto ip = parse_ip(text)) return SocketAddr{*ip, 53};
  return parse_socket_addr(text);
}

Result<std::string> parse_id(std::string_view text) {
  UVS_CFG_RETURN_IF_ERROR(check_port_id(text));
  return std::string(text);
}

Result<std::string> parse_socket_path(std::string_view text) {
  UVS_CFG_RETURN_IF_ERROR(check_socket_path(text));
  return std::string(text);
}

// The keys every port type shares: id, thread, vlan / trunk.
Result<void> read_common(const KeyReader& r, PortSpec* spec) {
  UVS_CFG_RETURN_IF_ERROR(r.read_required("id", &spec->id, parse_id));
  UVS_CFG_RETURN_IF_ERROR(r.read("thread", &spec->thread, uint_in(0, kMaxThreads - 1)));
  if (r.has("vlan") && r.has("trunk")) {
    return Error::make(ConfigError::kConflict,
                       "vlan and trunk exclude each other (vlan=V: untagged access port; "
                       "trunk=V1:V2: tagged port)",
                       "trunk");
  }
  UVS_CFG_RETURN_IF_ERROR(r.read("vlan", &spec->vlan.access_vlan, parse_vlan));
  if (r.has("trunk")) {
    spec->vlan.mode = VlanMode::kTrunk;
    UVS_CFG_RETURN_IF_ERROR(r.read("trunk", &spec->vlan.trunk, parse_vlan_list));
  }
  PortSecurity& sec = spec->security;
  UVS_CFG_RETURN_IF_ERROR(r.read("max-macs", &sec.max_macs, uint_in(1, kMaxPortMacs)));
  UVS_CFG_RETURN_IF_ERROR(r.read("allowed-mac", &sec.allowed_mac, parse_mac));
  UVS_CFG_RETURN_IF_ERROR(r.read("bum-rate", &sec.bum_rate, uint_in(1, kMaxBumRate)));
  return {};
}

// mode= and group= of a unix socket uvswitch listens on; `why_not` is set when this port has
// no such socket (a client, an inherited fd, TCP), and refuses the keys naming the reason.
template <typename Spec>
Result<void> read_access(const KeyReader& r, Spec* s, const char* why_not) {
  if (!r.has("mode") && !r.has("group")) return {};
  const char* key = r.has("mode") ? "mode" : "group";
  if (why_not) {
    return Error::make(ConfigError::kConflict,
                       std::string(key) + " applies to a unix socket uvswitch listens on, not " +
                           why_not,
                       key);
  }
  UVS_CFG_RETURN_IF_ERROR(r.read("mode", &s->mode, parse_file_mode));
  UVS_CFG_RETURN_IF_ERROR(r.read("group", &s->group, parse_group));
  return {};
}

Result<PortBackend> read_vhost_user(const KeyReader& r) {
  VhostUserPortSpec s;
  if (r.has("fd")) {
    // An inherited socket already is what path= and server= would make of a path.
    if (r.has("path")) {
      return Error::make(ConfigError::kConflict,
                         "fd and path exclude each other (fd=N: an inherited socket; path=: a "
                         "socket uvswitch opens)",
                         "fd");
    }
    if (r.has("server")) {
      return Error::make(ConfigError::kConflict,
                         "fd and server exclude each other (an inherited socket is connected "
                         "or listening already)",
                         "fd");
    }
    UVS_CFG_RETURN_IF_ERROR(r.read("fd", &s.fd, parse_socket_fd));
  } else {
    if (!r.has("path")) {
      return Error::make(ConfigError::kMissingKey,
                         "missing required key 'path' (unix socket) or 'fd' (inherited socket)",
                         "path");
    }
    UVS_CFG_RETURN_IF_ERROR(r.read("path", &s.path, parse_socket_path));
    UVS_CFG_RETURN_IF_ERROR(r.read("server", &s.server, parse_bool));
  }
  UVS_CFG_RETURN_IF_ERROR(r.read("queues", &s.queues, uint_in(1, kMaxQueuePairs)));
  UVS_CFG_RETURN_IF_ERROR(r.read("mac", &s.mac, parse_mac));
  UVS_CFG_RETURN_IF_ERROR(r.read("mtu", &s.mtu, uint_in(kMinMtu, kMaxMtu)));
  UVS_CFG_RETURN_IF_ERROR(read_access(
      r, &s, s.fd ? "an inherited fd" : (!s.server ? "a client (server=off)" : nullptr)));
  UVS_CFG_RETURN_IF_ERROR(r.read("offload", &s.offload, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(r.read("migration", &s.migration, parse_bool));
  return PortBackend(std::move(s));
}

Result<PortBackend> read_tap(const KeyReader& r) {
  TapPortSpec s;
  auto parse_ifname = [](std::string_view v) -> Result<std::string> {
    UVS_CFG_RETURN_IF_ERROR(check_ifname(v));
    return std::string(v);
  };
  UVS_CFG_RETURN_IF_ERROR(r.read_required("ifname", &s.ifname, parse_ifname));
  UVS_CFG_RETURN_IF_ERROR(r.read("vnet-hdr", &s.vnet_hdr, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(r.read("offload", &s.offload, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(r.read("mtu", &s.mtu, uint_in(kMinMtu, kMaxMtu)));
  return PortBackend(std::move(s));
}

Result<PortBackend> read_stream(const KeyReader& r) {
  StreamPortSpec s;
  if (r.has("path") && r.has("addr")) {
    return Error::make(ConfigError::kConflict,
                       "path and addr exclude each other (path=: unix socket, addr=: TCP)", "addr");
  }
  if (!r.has("path") && !r.has("addr")) {
    return Error::make(ConfigError::kMissingKey,
                       "missing required key 'path' (unix socket) or 'addr' (TCP HOST:PORT)",
                       "path");
  }
  UVS_CFG_RETURN_IF_ERROR(r.read("path", &s.path, parse_socket_path));
  UVS_CFG_RETURN_IF_ERROR(r.read("addr", &s.addr, parse_socket_addr));
  UVS_CFG_RETURN_IF_ERROR(r.read("server", &s.server, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(read_access(
      r, &s, s.addr ? "TCP (addr=)" : (!s.server ? "a client (server=off)" : nullptr)));
  return PortBackend(std::move(s));
}

Result<PortBackend> read_dgram(const KeyReader& r) {
  DgramPortSpec s;
  UVS_CFG_RETURN_IF_ERROR(r.read_required("local", &s.local, parse_socket_addr));
  UVS_CFG_RETURN_IF_ERROR(r.read_required("remote", &s.remote, parse_socket_addr));
  if (s.local.ip.family != s.remote.ip.family) {
    return Error::make(ConfigError::kConflict,
                       "local=" + s.local.to_string() + " and remote=" + s.remote.to_string() +
                           " are different address families",
                       "remote");
  }
  return PortBackend(std::move(s));
}

bool ip_unspecified(const IpAddr& a) {
  if (a.family == IpFamily::kV4) return a.v4.value == 0;
  for (uint8_t b : a.v6.bytes) {
    if (b != 0) return false;
  }
  return true;
}

bool ip_multicast(const IpAddr& a) {
  return a.family == IpFamily::kV4 ? (a.v4.value >> 28) == 0xe : a.v6.bytes[0] == 0xff;
}

// local= takes a bare address (the port is dstport) or IP:PORT / [IPV6]:PORT.
Result<std::pair<IpAddr, std::optional<uint16_t>>> parse_vxlan_local(std::string_view text) {
  if (auto ip = parse_ip(text)) return std::pair{*ip, std::optional<uint16_t>()};
  auto sa = parse_socket_addr(text);
  if (!sa) {
    return Error::make(ConfigError::kBadAddress,
                       quoted(text) + " is not IP or IP:PORT (like 192.0.2.1, 192.0.2.1:4789 or "
                                      "[2001:db8::1]:4789)");
  }
  return std::pair{sa->ip, std::optional<uint16_t>(sa->port)};
}

Result<PortBackend> read_vxlan(const KeyReader& r) {
  VxlanPortSpec s;
  UVS_CFG_RETURN_IF_ERROR(r.read_required("vni", &s.vni, uint_in<uint32_t>(0, kMaxVni)));
  std::pair<IpAddr, std::optional<uint16_t>> local;
  UVS_CFG_RETURN_IF_ERROR(r.read_required("local", &local, parse_vxlan_local));
  s.local = local.first;
  s.local_port = local.second;
  if (ip_multicast(s.local)) {
    return Error::make(ConfigError::kBadAddress,
                       "local: " + quoted(s.local.to_string()) + " is a multicast address",
                       "local");
  }
  UVS_CFG_RETURN_IF_ERROR(r.read("dstport", &s.dstport, parse_port_number));
  UVS_CFG_RETURN_IF_ERROR(r.read("mtu", &s.mtu, uint_in(kMinMtu, kMaxVxlanMtu)));
  for (const KeyvalItem& item : r.keyval().items) {
    if (item.key != "remote") continue;
    auto bad = [&](const std::string& why) {
      return Error::make(ConfigError::kBadAddress, "remote: " + quoted(item.value) + " " + why,
                         "remote");
    };
    auto ip = parse_ip(item.value);
    if (!ip) return bad("is not an IP address (a VTEP is an address; the port is dstport)");
    if (ip_unspecified(*ip)) return bad("is the unspecified address");
    if (ip_multicast(*ip)) {
      return bad("is a multicast address (multicast underlay groups are not supported: list each "
                 "VTEP with its own remote=)");
    }
    if (ip->family != s.local.family) {
      return bad("and local=" + s.local_text() + " are different address families");
    }
    if (!ip_unspecified(s.local) && *ip == s.local) return bad("is the local address");
    for (const IpAddr& other : s.remotes) {
      if (other == *ip) return bad("is given twice");
    }
    if (s.remotes.size() == kMaxVxlanRemotes) {
      return bad("is one too many (at most " + std::to_string(kMaxVxlanRemotes) + " remotes)");
    }
    s.remotes.push_back(*ip);
  }
  if (s.remotes.empty()) return KeyReader::missing("remote");
  return PortBackend(std::move(s));
}

[[maybe_unused]] Result<std::string> parse_devargs(std::string_view text) {
  // rte_dev_probe takes NAME[,KEY=VALUE...]; the name is what DPDK registers the device as.
  const std::string_view name = text.substr(0, text.find(','));
  if (name.empty()) {
    return Error::make(ConfigError::kBadValue,
                       quoted(text) + " has no device name (a PCI address like 0000:01:00.0, or a "
                                      "vdev like net_af_packet0,iface=eth0)");
  }
  for (char c : name) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\') {
      return Error::make(ConfigError::kBadValue,
                         quoted(text) + ": device name " + quoted(name) + " is not a DPDK name");
    }
  }
  return std::string(text);
}

Result<PortBackend> read_dpdk(const KeyReader& r) {
#ifdef UVS_WITH_DPDK
  DpdkPortSpec s;
  UVS_CFG_RETURN_IF_ERROR(r.read_required("devargs", &s.devargs, parse_devargs));
  UVS_CFG_RETURN_IF_ERROR(r.read("queues", &s.queues, uint_in(1, kMaxDpdkQueues)));
  return PortBackend(std::move(s));
#else
  (void)r;
  return Error::make(ConfigError::kBadValue,
                     "dpdk: this uvswitch was built without DPDK (configure with "
                     "-DUVS_WITH_DPDK=ON)",
                     "type");
#endif
}

// Checks that a NAT address is a usable host address of `net`. `given` says whether the user
// wrote it, so a bad default points at the key to set instead of blaming the user.
Result<void> check_in_net(const Ipv4Net& net, Ipv4Addr a, std::string_view key, bool given) {
  std::string what = given ? std::string(key) + "=" + a.to_string()
                           : std::string(key) + " (default " + a.to_string() + ")";
  std::string fix = given ? "" : "; set " + std::string(key) + "= explicitly";
  auto fail = [&](const std::string& why) {
    return Error::make(ConfigError::kBadAddress, what + " " + why + fix, std::string(key));
  };
  if (!net.contains(a)) return fail("is outside net=" + net.to_string());
  if (a == net.addr) return fail("is the network address of net=" + net.to_string());
  if (a == net.broadcast()) return fail("is the broadcast address of net=" + net.to_string());
  return {};
}

Result<PortBackend> read_nat(const KeyReader& r) {
  NatPortSpec s;
  s.net = Ipv4Net{Ipv4Addr{0x0a000200}, 24};  // 10.0.2.0/24, QEMU's -netdev user default
  UVS_CFG_RETURN_IF_ERROR(r.read("net", &s.net, parse_ipv4_net));
  if (s.net.prefix > kMaxNatPrefix) {
    return Error::make(ConfigError::kBadCidr,
                       "net: " + s.net.to_string() +
                           " leaves no room for host, dns and DHCP "
                           "addresses (prefix at most /" +
                           std::to_string(kMaxNatPrefix) + ")",
                       "net");
  }
  // QEMU's defaults: gateway .2, DNS .3, DHCP pool from .15.
  s.host = s.net.at(2);
  s.dns = s.net.at(3);
  s.dhcp_start = s.net.at(15);
  UVS_CFG_RETURN_IF_ERROR(r.read("host", &s.host, parse_ipv4));
  UVS_CFG_RETURN_IF_ERROR(r.read("dns", &s.dns, parse_ipv4));
  UVS_CFG_RETURN_IF_ERROR(r.read("dhcpstart", &s.dhcp_start, parse_ipv4));
  UVS_CFG_RETURN_IF_ERROR(check_in_net(s.net, s.host, "host", r.has("host")));
  UVS_CFG_RETURN_IF_ERROR(check_in_net(s.net, s.dns, "dns", r.has("dns")));
  UVS_CFG_RETURN_IF_ERROR(check_in_net(s.net, s.dhcp_start, "dhcpstart", r.has("dhcpstart")));
  if (s.dhcp_start == s.host || s.dhcp_start == s.dns) {
    return Error::make(ConfigError::kConflict,
                       "dhcpstart=" + s.dhcp_start.to_string() +
                           " collides with the NAT's own address (host=" + s.host.to_string() +
                           ", dns=" + s.dns.to_string() + ")",
                       "dhcpstart");
  }

  UVS_CFG_RETURN_IF_ERROR(r.read("ipv6", &s.ipv6, parse_bool));
  auto fd00 = parse_ipv6_net("fd00::/64");
  s.ipv6_prefix = *fd00;
  UVS_CFG_RETURN_IF_ERROR(r.read("ipv6-prefix", &s.ipv6_prefix, parse_ipv6_net));
  if (s.ipv6_prefix.prefix > kMaxIpv6NatPrefix) {
    return Error::make(ConfigError::kBadCidr,
                       "ipv6-prefix: " + s.ipv6_prefix.to_string() + " is too long (at most /" +
                           std::to_string(kMaxIpv6NatPrefix) + ")",
                       "ipv6-prefix");
  }
  auto parse_domain = [](std::string_view v) -> Result<std::string> {
    UVS_CFG_RETURN_IF_ERROR(check_domain_name(v));
    return std::string(v);
  };
  UVS_CFG_RETURN_IF_ERROR(r.read("domain", &s.domain, parse_domain));
  UVS_CFG_RETURN_IF_ERROR(r.read("restrict", &s.restrict_guest, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(r.read("host-loopback", &s.host_loopback, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(
      r.read("max-connections", &s.max_connections, uint_in(1, kMaxNatConnections)));
  UVS_CFG_RETURN_IF_ERROR(r.read("dhcp", &s.dhcp, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(r.read("mtu", &s.mtu, uint_in(kMinMtu, kMaxNatMtu)));
  UVS_CFG_RETURN_IF_ERROR(r.read("dns-server", &s.dns_server, parse_dns_server));

  for (const KeyvalItem& item : r.keyval().items) {
    if (item.key != "hostfwd") continue;
    auto fwd = parse_hostfwd(item.value);
    if (!fwd) return KeyReader::annotate("hostfwd", fwd.error());
    if (fwd->guest_addr) {
      auto in = check_in_net(s.net, *fwd->guest_addr, "guest address", true);
      if (!in) {
        return KeyReader::annotate(
            "hostfwd",
            Error::make(ConfigError::kBadAddress, quoted(item.value) + ": " + in.error().message));
      }
    }
    for (const HostFwd& other : s.hostfwd) {
      if (other.proto == fwd->proto && other.host_port == fwd->host_port &&
          other.host_addr == fwd->host_addr) {
        return Error::make(ConfigError::kConflict,
                           "hostfwd: " + quoted(item.value) + " uses the same host port as " +
                               quoted(other.to_string()),
                           "hostfwd");
      }
    }
    s.hostfwd.push_back(*fwd);
  }
  return PortBackend(std::move(s));
}

}  // namespace

Result<void> check_port_id(std::string_view id) {
  auto bad = [&] {
    return Error::make(ConfigError::kBadValue,
                       quoted(id) +
                           " is not a valid id (a letter, then letters, digits, '-', '_' "
                           "or '.'; at most " +
                           std::to_string(kMaxIdLength) + ")");
  };
  if (id.empty() || id.size() > kMaxIdLength) return bad();
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(id[0])) return bad();
  for (char c : id) {
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.') return bad();
  }
  return {};
}

Result<HostFwd> parse_hostfwd(std::string_view text) {
  auto bad = [&] {
    return Error::make(ConfigError::kBadValue,
                       quoted(text) +
                           " is not a forwarding rule (expected [tcp|udp]:[HOSTADDR]:"
                           "HOSTPORT-[GUESTADDR]:GUESTPORT, e.g. tcp:127.0.0.1:2222-:22)");
  };
  HostFwd f;
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad();
  std::string_view proto = text.substr(0, colon);
  if (proto == "udp") {
    f.proto = FwdProto::kUdp;
  } else if (proto != "tcp" && !proto.empty()) {
    return Error::make(ConfigError::kBadValue,
                       quoted(text) + ": protocol " + quoted(proto) + " is not tcp or udp");
  }
  std::string_view rest = text.substr(colon + 1);
  size_t dash = rest.rfind('-');
  if (dash == std::string_view::npos) return bad();
  std::string_view host = rest.substr(0, dash);
  std::string_view guest = rest.substr(dash + 1);

  std::string_view host_addr, host_port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || close + 1 >= host.size() || host[close + 1] != ':') {
      return bad();
    }
    auto v6 = parse_ipv6(host.substr(1, close - 1));
    if (!v6) return bad();
    f.host_addr = IpAddr{IpFamily::kV6, {}, *v6};
    host_port = host.substr(close + 2);
  } else {
    size_t c = host.rfind(':');
    if (c == std::string_view::npos) return bad();
    host_addr = host.substr(0, c);
    host_port = host.substr(c + 1);
    if (!host_addr.empty()) {
      auto v4 = parse_ipv4(host_addr);
      if (!v4) {
        return Error::make(ConfigError::kBadAddress,
                           quoted(text) + ": host address " + v4.error().message);
      }
      f.host_addr = IpAddr{IpFamily::kV4, *v4, {}};
    }
  }
  size_t gc = guest.rfind(':');
  if (gc == std::string_view::npos) return bad();
  std::string_view guest_addr = guest.substr(0, gc);
  if (!guest_addr.empty()) {
    auto v4 = parse_ipv4(guest_addr);
    if (!v4) {
      return Error::make(ConfigError::kBadAddress,
                         quoted(text) + ": guest address " + v4.error().message);
    }
    f.guest_addr = *v4;
  }
  auto hp = parse_port_number(host_port);
  if (!hp) return Error::make(hp.error().code, quoted(text) + ": host " + hp.error().message);
  auto gp = parse_port_number(guest.substr(gc + 1));
  if (!gp) return Error::make(gp.error().code, quoted(text) + ": guest " + gp.error().message);
  f.host_port = *hp;
  f.guest_port = *gp;
  return f;
}

std::string port_label(const Keyval& kv, std::string_view text) {
  if (const KeyvalItem* id = kv.find("id")) return id->value;
  return quoted(text);
}

Result<PortSpec> parse_port_spec(std::string_view text) {
  UVS_CFG_ASSIGN_OR_RETURN(Keyval kv, parse_keyval(text, KeyvalType::kLeading));
  return parse_port_spec(kv);
}

Result<PortSpec> parse_port_spec(const Keyval& kv) {
  KeyReader r(kv);
  PortSpec spec;
  std::span<const KeyRule> keys;
  Result<PortBackend> (*read_backend)(const KeyReader&) = nullptr;
  if (kv.type == "vhost-user") {
    keys = kVhostUserKeys;
    read_backend = read_vhost_user;
  } else if (kv.type == "tap") {
    keys = kTapKeys;
    read_backend = read_tap;
  } else if (kv.type == "stream") {
    keys = kStreamKeys;
    read_backend = read_stream;
  } else if (kv.type == "dgram") {
    keys = kDgramKeys;
    read_backend = read_dgram;
  } else if (kv.type == "nat") {
    keys = kNatKeys;
    read_backend = read_nat;
  } else if (kv.type == "vxlan") {
    keys = kVxlanKeys;
    read_backend = read_vxlan;
  } else if (kv.type == "dpdk") {
    keys = kDpdkKeys;
    read_backend = read_dpdk;
  } else {
    std::string hint = did_you_mean(kv.type, kTypeNames);
    if (hint.empty()) hint = " (types: vhost-user, tap, stream, dgram, nat, vxlan, dpdk)";
    return Error::make(ConfigError::kBadValue, "unknown port type '" + kv.type + "'" + hint,
                       "type");
  }
  std::vector<KeyRule> allowed(keys.begin(), keys.end());
  allowed.insert(allowed.end(), std::begin(kSecurityKeys), std::end(kSecurityKeys));
  UVS_CFG_RETURN_IF_ERROR(r.check_keys(allowed, kv.type + " port"));
  UVS_CFG_RETURN_IF_ERROR(read_common(r, &spec));
  UVS_CFG_ASSIGN_OR_RETURN(spec.backend, read_backend(r));
  return spec;
}

}  // namespace uvs::config
