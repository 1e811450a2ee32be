// SPDX-License-Identifier: MIT
// PortSpec: the typed, validated description of one --port: what every type shares, its type's
// registry entry, and the type's own settings (one struct per type, in its <type>_port_spec.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/net_types.h"
#include "config/port_backend.h"

namespace uvs::config {

struct PortTypeInfo;

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

/// One configured port: what every type shares plus the type's own settings.
struct PortSpec {
  std::string id;
  std::optional<unsigned> thread;  ///< index of the I/O thread; absent: the switch picks
  VlanConfig vlan;
  PortSecurity security;
  /// The type's registry entry (config/port_types.h), e.g. &kTapPortType; never null in a spec
  /// the parser made.
  const PortTypeInfo* type = nullptr;
  PortBackend backend;  ///< the type's own settings struct (TapPortSpec ...), read by `type`

  /// The type word ("vhost-user", "tap" ...).
  std::string_view type_name() const;
  bool operator==(const PortSpec&) const = default;
};

/// The spec's settings as (key, value) pairs in keyval spelling, type first ("type", "nat"),
/// defaults included; values unescaped. For status output.
std::vector<std::pair<std::string, std::string>> port_settings(const PortSpec& spec);

/// The canonical keyval text of `spec` ("vhost-user,id=vm0,path=...,server=on,..."), with commas
/// in values escaped; parse_port_spec() of it gives back an equal spec.
std::string to_keyval(const PortSpec& spec);

}  // namespace uvs::config
