// SPDX-License-Identifier: MIT
// PortSpec: the typed, validated description of one --port (vhost-user, tap, stream, dgram, nat,
// vxlan, dpdk).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "config/file_access.h"
#include "config/net_types.h"

namespace uvs::config {

enum class PortType { kVhostUser, kTap, kStream, kDgram, kNat, kVxlan, kDpdk };

/// The spec's type word: "vhost-user", "tap", "stream", "dgram", "nat", "vxlan", "dpdk".
const char* port_type_name(PortType t);

/// How a port takes part in VLANs (IEEE 802.1Q).
enum class VlanMode {
  kAccess,  ///< frames on the wire are untagged and belong to `access_vlan`
  kTrunk,   ///< frames on the wire carry tags; only the `trunk` VLANs pass
};

/// A port's VLAN membership. Without vlan= or trunk= a port is an access port of VLAN 1, the
/// default VLAN, so ports that never mention VLANs all share one broadcast domain.
struct VlanConfig {
  VlanMode mode = VlanMode::kAccess;
  uint16_t access_vlan = 1;
  std::vector<uint16_t> trunk;  ///< sorted, unique; only for kTrunk
  bool operator==(const VlanConfig&) const = default;
};

/// vhost-user,id=,path=|fd=[,server=on|off][,queues=N][,mac=][,mtu=N]. The switch is the
/// vhost-user backend; server=on (default) means it listens on `path` and QEMU connects as the
/// frontend. fd=N instead of path: an inherited socket (connected, as libvirt passes it, or
/// listening), exclusive with path and server.
struct VhostUserPortSpec {
  std::string path;             ///< empty when `fd` is set
  std::optional<int> fd;        ///< inherited socket; only at start-up, never over port-add
  bool server = true;
  unsigned queues = 1;          ///< queue pairs
  std::optional<MacAddr> mac;   ///< offered in the device config space when set
  std::optional<unsigned> mtu;  ///< offered as VIRTIO_NET_F_MTU when set
  std::optional<unsigned> mode;     ///< server socket's permissions (octal `mode=`)
  std::optional<GroupRef> group;    ///< server socket's group (`group=`)
  bool offload = true;          ///< offer checksum and TSO offloads (CSUM, GUEST_/HOST_TSO4/6, ECN)
  bool migration = false;       ///< offer VHOST_F_LOG_ALL, so QEMU may live-migrate the guest
  bool operator==(const VhostUserPortSpec&) const = default;
};

/// tap,id=,ifname=[,vnet-hdr=on|off][,offload=on|off][,mtu=N]: a kernel tap device, created if
/// missing.
struct TapPortSpec {
  std::string ifname;
  bool vnet_hdr = true;  ///< IFF_VNET_HDR: offloads pass through with their header
  bool offload = true;   ///< with vnet_hdr: TUNSETOFFLOAD checksum, TSO (and USO) offloads
  std::optional<unsigned> mtu;
  bool operator==(const TapPortSpec&) const = default;
};

/// stream,id=,path=|addr=[,server=on|off]: frames over a byte stream, each preceded by a 32-bit
/// big-endian length (QEMU's -netdev stream framing). Exactly one of `path` (unix) and `addr`.
struct StreamPortSpec {
  std::string path;
  std::optional<SocketAddr> addr;
  bool server = true;
  std::optional<unsigned> mode;   ///< unix server socket's permissions (octal `mode=`)
  std::optional<GroupRef> group;  ///< unix server socket's group (`group=`)
  bool operator==(const StreamPortSpec&) const = default;
};

/// dgram,id=,local=IP:PORT,remote=IP:PORT: one frame per UDP datagram (QEMU's -netdev dgram).
struct DgramPortSpec {
  SocketAddr local;
  SocketAddr remote;
  bool operator==(const DgramPortSpec&) const = default;
};

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

/// Port security, as OVS's port security and libvirt's clean-traffic filter offer it; every port
/// type takes these keys. Unset means no limit.
struct PortSecurity {
  /// max-macs=N: at most N source MACs are learned on the port; frames from further new sources
  /// are dropped (they never evict another entry).
  std::optional<unsigned> max_macs;
  /// allowed-mac=MAC: only frames with this source MAC are accepted from the port.
  std::optional<MacAddr> allowed_mac;
  /// bum-rate=PPS: broadcast, multicast and unknown-unicast frames the port may send per second.
  std::optional<unsigned> bum_rate;
  bool operator==(const PortSecurity&) const = default;
};

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

/// dpdk,id=,devargs=DEVARGS[,queues=N]: a DPDK ethdev, probed by the daemon's EAL (--dpdk-args).
/// Only in a build configured with -DUVS_WITH_DPDK=ON; others refuse the type by name.
struct DpdkPortSpec {
  std::string devargs;  ///< as rte_dev_probe takes it: a PCI address or "net_xxx0,key=value,..."
  unsigned queues = 1;  ///< RX/TX queue pairs
  bool operator==(const DpdkPortSpec&) const = default;
};

using PortBackend = std::variant<VhostUserPortSpec, TapPortSpec, StreamPortSpec, DgramPortSpec,
                                 NatPortSpec, VxlanPortSpec, DpdkPortSpec>;

/// One configured port: what every type shares plus the type's own settings.
struct PortSpec {
  std::string id;
  std::optional<unsigned> thread;  ///< index of the I/O thread; absent: the switch picks
  VlanConfig vlan;
  PortSecurity security;
  PortBackend backend;

  PortType type() const { return static_cast<PortType>(backend.index()); }
  bool operator==(const PortSpec&) const = default;
};

/// The spec's settings as (key, value) pairs in keyval spelling, type first ("type", "nat"),
/// defaults included; values unescaped. For status output.
std::vector<std::pair<std::string, std::string>> port_settings(const PortSpec& spec);

/// The canonical keyval text of `spec` ("vhost-user,id=vm0,path=...,server=on,..."), with commas
/// in values escaped; parse_port_spec() of it gives back an equal spec.
std::string to_keyval(const PortSpec& spec);

}  // namespace uvs::config
