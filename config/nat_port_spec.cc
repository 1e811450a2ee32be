// SPDX-License-Identifier: MIT
// The nat port type's keys: reading, checking, canonical settings and --help text.
#include "config/nat_port_spec.h"

#include "config/fd_check.h"
#include "config/limits.h"
#include "config/path_check.h"
#include "config/port_key_readers.h"
#include "config/port_spec_parser.h"
#include "config/port_types.h"
#include "config/value_parser.h"

namespace uvs::config {
namespace {

constexpr KeyRule kNatKeys[] = {
    {.name = "net", .value = "CIDR",
     .help = "the guests' network (default 10.0.2.0/24)."},
    {.name = "host", .value = "IP",
     .help = "the NAT's own address, the guests' gateway (default .2)."},
    {.name = "dhcpstart", .value = "IP",
     .help = "the first address DHCP leases (default .15)."},
    {.name = "dns", .value = "IP",
     .help = "the address the guests send DNS queries to (default .3)."},
    {.name = "ipv6", .value = "on|off",
     .help = "on (default): IPv6 too."},
    {.name = "ipv6-prefix", .value = "P/LEN",
     .help = "the guests' IPv6 prefix (default fd00::/64)."},
    {.name = "domain", .value = "NAME",
     .help = "the DNS domain DHCP hands out."},
    {.name = "restrict", .value = "on|off",
     .help = "on: guests reach nothing outside, only hostfwd connections come in (default "
              "off)."},
    {.name = "dhcp", .value = "on|off",
     .help = "on (default): the NAT serves DHCP."},
    {.name = "hostfwd", .repeatable = true, .value = "RULE",
     .help = "forward a host port to a guest, repeatable. RULE: "
              "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, e.g. "
              "tcp:127.0.0.1:2222-:22; no HOSTADDR binds 127.0.0.1 only; no GUESTADDR means "
              "dhcpstart."},
    {.name = "mtu", .value = "N",
     .help = "the NAT's MTU (default 1500)."},
    {.name = "dns-server", .value = "IP[:PORT]",
     .help = "where the NAT relays DNS queries (default: the host's resolv.conf server, via "
              "libslirp)."},
    {.name = "host-loopback", .value = "on|off",
     .help = "off: host (.2) no longer leads to the host's 127.0.0.1 (default on)."},
    {.name = "max-connections", .value = "N",
     .help = "at most N NAT sockets (TCP, UDP flows, pings) for the guests, 1..65536; frames "
              "that would open more are dropped (in-drop-conn-limit). Default: no limit."},
};

// dns-server takes IP:PORT, or a bare IP meaning port 53 (RFC 1035 4.2).
Result<SocketAddr> parse_dns_server(std::string_view text) {
  if (auto ip = parse_ip(text)) return SocketAddr{*ip, 53};
  return parse_socket_addr(text);
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

void write_nat(const PortBackend& b, PortSettings* out_list) {
  const auto& s = b.get<NatPortSpec>();
  PortSettings& out = *out_list;
  out.emplace_back("net", s.net.to_string());
  out.emplace_back("host", s.host.to_string());
  out.emplace_back("dhcpstart", s.dhcp_start.to_string());
  out.emplace_back("dns", s.dns.to_string());
  out.emplace_back("ipv6", on_off(s.ipv6));
  out.emplace_back("ipv6-prefix", s.ipv6_prefix.to_string());
  if (s.domain) out.emplace_back("domain", *s.domain);
  out.emplace_back("restrict", on_off(s.restrict_guest));
  out.emplace_back("host-loopback", on_off(s.host_loopback));
  if (s.max_connections) out.emplace_back("max-connections", std::to_string(*s.max_connections));
  out.emplace_back("dhcp", on_off(s.dhcp));
  for (const HostFwd& f : s.hostfwd) out.emplace_back("hostfwd", f.to_string());
  if (s.mtu) out.emplace_back("mtu", std::to_string(*s.mtu));
  if (s.dns_server) out.emplace_back("dns-server", s.dns_server->to_string());
}

}  // namespace

std::string HostFwd::to_string() const {
  std::string out = proto == FwdProto::kTcp ? "tcp:" : "udp:";
  if (host_addr) {
    out += host_addr->family == IpFamily::kV6 ? "[" + host_addr->to_string() + "]"
                                              : host_addr->to_string();
  }
  out += ":" + std::to_string(host_port) + "-";
  if (guest_addr) out += guest_addr->to_string();
  out += ":" + std::to_string(guest_port);
  return out;
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

const PortTypeInfo kNatPortType{
    .name = "nat",
    .keys = kNatKeys,
    .trunk = false,
    .read = read_nat,
    .write = write_nat,
    .usage = "nat,id=ID[,net=CIDR][,host=IP][,dhcpstart=IP][,dns=IP][,ipv6=on|off]"
             "[,ipv6-prefix=P/LEN]\n"
             "[,domain=NAME][,restrict=on|off][,dhcp=on|off][,hostfwd=RULE]...[,mtu=N]\n"
             "[,dns-server=IP[:PORT]][,host-loopback=on|off][,max-connections=N]",
    .summary = "user-mode NAT (libslirp), with QEMU -netdev user's defaults.",
};

}  // namespace uvs::config
