// SPDX-License-Identifier: MIT
// NatPortSpec: the checked settings of a nat port (user-mode NAT (libslirp)).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/file_access.h"
#include "config/net_types.h"
#include "config/result.h"

namespace uvs::config {

struct PortTypeInfo;

enum class FwdProto { kTcp, kUdp };

/// One hostfwd rule, QEMU syntax: [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT.
struct HostFwd {
  FwdProto proto = FwdProto::kTcp;
  std::optional<IpAddr> host_addr;  ///< absent: every host address (QEMU's default)
  uint16_t host_port = 0;
  std::optional<Ipv4Addr> guest_addr;  ///< absent: the first DHCP address, as in QEMU
  uint16_t guest_port = 0;
  /// Canonical text, parseable again.
  std::string to_string() const;
  bool operator==(const HostFwd&) const = default;
};

/// nat,id=[,net=][,host=]...: a user-mode NAT (libslirp) behind the switch. Addresses not given
/// are derived from `net` the way QEMU's -netdev user does (host .2, dns .3, dhcpstart .15).
struct NatPortSpec {
  Ipv4Net net;
  Ipv4Addr host;
  Ipv4Addr dhcp_start;
  Ipv4Addr dns;
  bool ipv6 = true;
  Ipv6Net ipv6_prefix;
  std::optional<std::string> domain;
  bool restrict_guest = false;  ///< restrict=on: the guest cannot reach the outside
  bool host_loopback = true;    ///< host-loopback=off: the host address does not reach 127.0.0.1
  std::optional<unsigned> max_connections;  ///< max-connections=N: NAT sockets; absent: no limit
  bool dhcp = true;
  std::vector<HostFwd> hostfwd;
  std::optional<unsigned> mtu;
  std::optional<SocketAddr> dns_server;  ///< where queries to `dns` go; absent: the host's resolver
  bool operator==(const NatPortSpec&) const = default;
};

/// Parses one hostfwd rule: [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, HOSTADDR IPv4 or
/// [IPv6], GUESTADDR IPv4. kBadValue / kOutOfRange on bad input. Pure.
Result<HostFwd> parse_hostfwd(std::string_view text);

/// The nat type's registry entry (config/port_types.h).
extern const PortTypeInfo kNatPortType;

}  // namespace uvs::config
