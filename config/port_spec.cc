// SPDX-License-Identifier: MIT
// PortSpec helpers: the type name and the canonical key/value rendering used for status and round
// trips; each type renders its own keys (port_types.h).
#include "config/port_spec.h"

#include "config/keyval.h"
#include "config/port_types.h"

namespace uvs::config {
namespace {

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

}  // namespace

std::string_view PortSpec::type_name() const {
  return type->name;
}

std::vector<std::pair<std::string, std::string>> port_settings(const PortSpec& spec) {
  PortSettings out;
  out.emplace_back("type", spec.type_name());
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
  spec.type->write(spec.backend, &out);
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
