// SPDX-License-Identifier: MIT
// The vxlan port type's keys: reading, checking, canonical settings and --help text.
#include "config/vxlan_port_spec.h"

#include "config/fd_check.h"
#include "config/limits.h"
#include "config/path_check.h"
#include "config/port_key_readers.h"
#include "config/port_spec_parser.h"
#include "config/port_types.h"
#include "config/value_parser.h"

namespace uvs::config {
namespace {

constexpr KeyRule kVxlanKeys[] = {
    {.name = "vni", .value = "N",
     .help = "the VXLAN network identifier, 0..16777215."},
    {.name = "local", .value = "IP[:PORT]",
     .help = "the address to bind (port: dstport unless given)."},
    {.name = "remote", .repeatable = true, .value = "IP",
     .help = "a remote VTEP of local's family, repeatable, up to 16. Only datagrams from a "
              "remote are accepted; others are counted (in-drop-foreign)."},
    {.name = "dstport", .value = "N",
     .help = "the UDP port of the remotes (default 4789)."},
    {.name = "mtu", .value = "N",
     .help = "the inner MTU (default 1450 over IPv4, 1430 over IPv6); larger frames are "
              "dropped, never fragmented."},
};

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

void write_vxlan(const PortBackend& b, PortSettings* out_list) {
  const auto& s = b.get<VxlanPortSpec>();
  PortSettings& out = *out_list;
  out.emplace_back("vni", std::to_string(s.vni));
  out.emplace_back("local", s.local_text());
  for (const IpAddr& r : s.remotes) out.emplace_back("remote", r.to_string());
  out.emplace_back("dstport", std::to_string(s.dstport));
  if (s.mtu) out.emplace_back("mtu", std::to_string(*s.mtu));
}

PortClaims claims_vxlan(const PortBackend& b) {
  const auto& s = b.get<VxlanPortSpec>();
  return PortClaims{
      .socket_path = {},
      .resource = "local=" + SocketAddr{s.local, s.local_port.value_or(s.dstport)}.to_string()};
}

}  // namespace

std::string VxlanPortSpec::local_text() const {
  if (local_port) return SocketAddr{local, *local_port}.to_string();
  return local.to_string();
}

const PortTypeInfo kVxlanPortType{
    .name = "vxlan",
    .keys = kVxlanKeys,
    .trunk = true,
    .read = read_vxlan,
    .write = write_vxlan,
    .claims = claims_vxlan,
    .usage = "vxlan,id=ID,vni=N,local=IP[:PORT],remote=IP[,remote=IP]...[,dstport=N][,mtu=N]",
    .summary = "Ethernet in VXLAN (RFC 7348). Learns each inner MAC's VTEP; broadcast, multicast "
               "and unknown unicast go to every remote.",
};

}  // namespace uvs::config
