// SPDX-License-Identifier: MIT
// VxlanPortSpec: the checked settings of a vxlan port (VXLAN tunnel (RFC 7348)).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/file_access.h"
#include "config/net_types.h"

namespace uvs::config {

struct PortTypeInfo;

/// vxlan,id=,vni=N,local=IP[:PORT],remote=IP[,remote=IP...][,dstport=N][,mtu=N]: Ethernet in
/// VXLAN in UDP (RFC 7348) to a fixed list of remote VTEPs, all of one address family.
struct VxlanPortSpec {
  uint32_t vni = 0;                  ///< 24-bit VXLAN network identifier
  IpAddr local;                      ///< address to bind (may be 0.0.0.0 / ::)
  std::optional<uint16_t> local_port;  ///< port to bind; absent: dstport
  std::vector<IpAddr> remotes;       ///< the VTEPs; datagrams from anyone else are dropped
  uint16_t dstport = 4789;           ///< IANA's VXLAN port (RFC 7348 section 5)
  std::optional<unsigned> mtu;       ///< inner L3 MTU; absent: 1450 (IPv4) / 1430 (IPv6)
  /// "IP" or "IP:PORT" as local= was given.
  std::string local_text() const;
  bool operator==(const VxlanPortSpec&) const = default;
};

/// The vxlan type's registry entry (config/port_types.h).
extern const PortTypeInfo kVxlanPortType;

}  // namespace uvs::config
