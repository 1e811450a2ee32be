// SPDX-License-Identifier: MIT
// PortSpec helpers: type names and the canonical key/value rendering used for status and round
// trips.
#include "config/port_spec.h"

#include "config/keyval.h"

namespace uvs::config {
namespace {

// PortSpec::type() maps the variant index onto PortType; keep the two orders in step.
static_assert(
    std::is_same_v<std::variant_alternative_t<static_cast<size_t>(PortType::kNat), PortBackend>,
                   NatPortSpec>);
static_assert(
    std::is_same_v<std::variant_alternative_t<static_cast<size_t>(PortType::kTap), PortBackend>,
                   TapPortSpec>);
static_assert(
    std::is_same_v<std::variant_alternative_t<static_cast<size_t>(PortType::kVxlan), PortBackend>,
                   VxlanPortSpec>);
static_assert(
    std::is_same_v<std::variant_alternative_t<static_cast<size_t>(PortType::kDpdk), PortBackend>,
                   DpdkPortSpec>);

using Settings = std::vector<std::pair<std::string, std::string>>;

const char* on_off(bool b) {
  return b ? "on" : "off";
}

// "10:11:12:20" -> "10-12:20": the compact form parse_vlan_list() reads back.
std::string vlan_list_text(const std::vector<uint16_t>& vlans) {
  std::string out;
  for (size_t i = 0; i < vlans.size();) {
    size_t j = i;
    while (j + 1 < vlans.size() && vlans[j + 1] == vlans[j] + 1) ++j;
    if (!out.empty()) out += ':';
    out += std::to_string(vlans[i]);
    if (j > i) out += "-" + std::to_string(vlans[j]);
    i = j + 1;
  }
  return out;
}

template <typename Spec>
void add_access(const Spec& s, Settings& out) {
  if (s.mode) out.emplace_back("mode", file_mode_text(*s.mode));
  if (s.group) out.emplace_back("group", s.group->name);
}

void add_backend(const VhostUserPortSpec& s, Settings& out) {
  if (s.fd) {
    out.emplace_back("fd", std::to_string(*s.fd));
  } else {
    out.emplace_back("path", s.path);
    out.emplace_back("server", on_off(s.server));
  }
  out.emplace_back("queues", std::to_string(s.queues));
  if (s.mac) out.emplace_back("mac", s.mac->to_string());
  if (s.mtu) out.emplace_back("mtu", std::to_string(*s.mtu));
  add_access(s, out);
  out.emplace_back("offload", on_off(s.offload));
  out.emplace_back("migration", on_off(s.migration));
}

void add_backend(const TapPortSpec& s, Settings& out) {
  out.emplace_back("ifname", s.ifname);
  out.emplace_back("vnet-hdr", on_off(s.vnet_hdr));
  out.emplace_back("offload", on_off(s.offload));
  if (s.mtu) out.emplace_back("mtu", std::to_string(*s.mtu));
}

void add_backend(const StreamPortSpec& s, Settings& out) {
  if (s.addr) {
    out.emplace_back("addr", s.addr->to_string());
  } else {
    out.emplace_back("path", s.path);
  }
  out.emplace_back("server", on_off(s.server));
  add_access(s, out);
}

void add_backend(const DgramPortSpec& s, Settings& out) {
  out.emplace_back("local", s.local.to_string());
  out.emplace_back("remote", s.remote.to_string());
}

void add_backend(const VxlanPortSpec& s, Settings& out) {
  out.emplace_back("vni", std::to_string(s.vni));
  out.emplace_back("local", s.local_text());
  for (const IpAddr& r : s.remotes) out.emplace_back("remote", r.to_string());
  out.emplace_back("dstport", std::to_string(s.dstport));
  if (s.mtu) out.emplace_back("mtu", std::to_string(*s.mtu));
}

void add_backend(const DpdkPortSpec& s, Settings& out) {
  out.emplace_back("devargs", s.devargs);
  out.emplace_back("queues", std::to_string(s.queues));
}

void add_backend(const NatPortSpec& s, Settings& out) {
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

const char* port_type_name(PortType t) {
  switch (t) {
    case PortType::kVhostUser:
      return "vhost-user";
    case PortType::kTap:
      return "tap";
    case PortType::kStream:
      return "stream";
    case PortType::kDgram:
      return "dgram";
    case PortType::kNat:
      return "nat";
    case PortType::kVxlan:
      return "vxlan";
    case PortType::kDpdk:
      return "dpdk";
  }
  return "unknown";
}

std::string VxlanPortSpec::local_text() const {
  if (local_port) return SocketAddr{local, *local_port}.to_string();
  return local.to_string();
}

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

std::vector<std::pair<std::string, std::string>> port_settings(const PortSpec& spec) {
  Settings out;
  out.emplace_back("type", port_type_name(spec.type()));
  out.emplace_back("id", spec.id);
  if (spec.thread) out.emplace_back("thread", std::to_string(*spec.thread));
  if (spec.vlan.mode == VlanMode::kTrunk) {
    out.emplace_back("trunk", vlan_list_text(spec.vlan.trunk));
  } else {
    out.emplace_back("vlan", std::to_string(spec.vlan.access_vlan));
  }
  const PortSecurity& sec = spec.security;
  if (sec.max_macs) out.emplace_back("max-macs", std::to_string(*sec.max_macs));
  if (sec.allowed_mac) out.emplace_back("allowed-mac", sec.allowed_mac->to_string());
  if (sec.bum_rate) out.emplace_back("bum-rate", std::to_string(*sec.bum_rate));
  std::visit([&](const auto& b) { add_backend(b, out); }, spec.backend);
  return out;
}

std::string to_keyval(const PortSpec& spec) {
  std::string out;
  for (const auto& [key, value] : port_settings(spec)) {
    if (key == "type") {
      out += value;
      continue;
    }
    out += "," + key + "=" + escape_keyval_value(value);
  }
  return out;
}

}  // namespace uvs::config
