// SPDX-License-Identifier: MIT
// Port spec parsing: the keys every type shares, then the type's own reader from the registry.
#include "config/port_spec_parser.h"

#include <iterator>
#include <vector>

#include "config/fd_check.h"
#include "config/key_reader.h"
#include "config/limits.h"
#include "config/path_check.h"
#include "config/port_key_readers.h"
#include "config/port_types.h"
#include "config/suggest.h"
#include "config/value_parser.h"

namespace uvs::config {
namespace {

// The keys every type takes, before its own; trunk only where the type has it.
constexpr KeyRule kCommonKeys[] = {
    {.name = "id", .value = "ID",
     .help = "the port's name: a letter, then letters, digits, '-', '_' or '.'."},
    {.name = "thread", .value = "K",
     .help = "the I/O thread index (default: the one with the fewest ports)."},
    {.name = "vlan", .value = "V",
     .help = "an untagged access port of VLAN V, 1..4094 (default 1)."},
    {.name = "trunk", .value = "LIST",
     .help = "a tagged port of the VLANs in LIST: ids and ranges separated by ':', e.g. "
             "trunk=10:20:100-199 (a literal ',' is written ',,' inside any keyval value, so "
             "trunk=10,,20 also works)."},
};
constexpr std::string_view kTrunkKey = "trunk";

// Port security keys every type takes, after its own (PortSecurity).
constexpr KeyRule kSecurityKeys[] = {
    {.name = "max-macs", .value = "N",
     .help = "port security: the FDB holds at most N (1..65536) source MACs of the port; frames "
             "from further sources are dropped, nothing is evicted (default: no limit)."},
    {.name = "allowed-mac", .value = "MAC",
     .help = "port security: only frames from this source MAC are accepted (vhost-user's mac= "
             "only sets the guest's MAC)."},
    {.name = "bum-rate", .value = "PPS",
     .help = "port security: broadcast, multicast and unknown-unicast frames the port may send "
             "per second, bursts of PPS/10 but at least 16 (default: no limit). Drops are "
             "counted per reason in ports."},
};

Result<std::string> parse_id(std::string_view text) {
  UVS_CFG_RETURN_IF_ERROR(check_port_id(text));
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

std::span<const KeyRule> shared_port_keys() {
  static const std::vector<KeyRule> keys = [] {
    std::vector<KeyRule> all(std::begin(kCommonKeys), std::end(kCommonKeys));
    all.insert(all.end(), std::begin(kSecurityKeys), std::end(kSecurityKeys));
    return all;
  }();
  return keys;
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
  const PortTypeInfo* type = find_port_type(kv.type);
  if (!type) {
    std::vector<std::string_view> names;
    for (const PortTypeInfo* t : port_types()) names.push_back(t->name);
    std::string hint = did_you_mean(kv.type, names);
    if (hint.empty()) hint = " (types: " + port_type_names(", ") + ")";
    return Error::make(ConfigError::kBadValue, "unknown port type '" + kv.type + "'" + hint,
                       "type");
  }
  std::vector<KeyRule> allowed;
  for (const KeyRule& k : kCommonKeys) {
    if (type->trunk || k.name != kTrunkKey) allowed.push_back(k);
  }
  allowed.insert(allowed.end(), type->keys.begin(), type->keys.end());
  allowed.insert(allowed.end(), std::begin(kSecurityKeys), std::end(kSecurityKeys));
  UVS_CFG_RETURN_IF_ERROR(r.check_keys(allowed, kv.type + " port"));
  UVS_CFG_RETURN_IF_ERROR(read_common(r, &spec));
  spec.type = type;
  UVS_CFG_ASSIGN_OR_RETURN(spec.backend, type->read(r));
  return spec;
}

}  // namespace uvs::config
