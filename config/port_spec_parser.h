// SPDX-License-Identifier: MIT
// Port spec parsing: keyval text or items to a validated PortSpec, one rule set per port type.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "config/key_reader.h"
#include "config/keyval.h"
#include "config/port_spec.h"
#include "config/result.h"

namespace uvs::config {

/// Parses one --port value (see parse_port_spec(const Keyval&) for the rules).
Result<PortSpec> parse_port_spec(std::string_view text);

/// Builds a PortSpec from parsed items, checking everything that needs no other port:
/// the type is known; every key is valid for it (did-you-mean hint otherwise); required keys
/// (id, and per type path|fd / ifname / local+remote / path|addr) are there; values parse
/// (numbers, on/off, MAC, VLAN 1..4094, CIDR, IP:PORT, hostfwd); vlan and trunk are not both
/// given; socket paths are absent or sockets; NAT addresses lie inside `net`.
/// Keys common to all types: id, thread, vlan, trunk (not nat: it is an untagged endpoint).
/// The error message names the key; the caller prefixes where the spec came from.
/// Reads the file system only to check socket paths, and the process's fd table for fd=.
Result<PortSpec> parse_port_spec(const Keyval& kv);

/// Checks a port id: a letter, then letters, digits, '-', '_' or '.', at most kMaxIdLength.
/// kBadValue otherwise. Pure.
Result<void> check_port_id(std::string_view id);

/// The keys every port type takes besides its own (id, thread, vlan, trunk where the type has
/// PortTypeInfo::trunk, and the port security keys), for --help.
std::span<const KeyRule> shared_port_keys();

/// What to call a spec in messages: its id when it has one, else the quoted text.
std::string port_label(const Keyval& kv, std::string_view text);

}  // namespace uvs::config
