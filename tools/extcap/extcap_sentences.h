// SPDX-License-Identifier: MIT
// The extcap sentences uvswitch-extcap prints (interfaces, DLTs, config) and its capture spec.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/result.h"

namespace uvs::extcap {

/// Every interface name is this prefix and a port id, so uvswitch ports never collide with the
/// host's own interface names in Wireshark's list.
inline constexpr std::string_view kInterfacePrefix = "uvswitch-";

/// The reply to --extcap-interfaces (extcap(4) grammar): one `extcap` line with the version,
/// then one `interface {value=uvswitch-ID}{display=...}` line per port of `ports` (the daemon's
/// `ports` reply; anything else lists no interface). Pure.
std::string interfaces_text(const nlohmann::ordered_json& ports, std::string_view version);
/// The reply to --extcap-dlts: Ethernet (DLT_EN10MB, 1), the link type of the switch's pcap.
std::string dlts_text();
/// The reply to --extcap-config: the control socket (defaulting to `default_control`), a BPF
/// filter and the direction (in, out, both).
std::string config_text(std::string_view default_control);
/// The port id of an interface name ("uvswitch-vm0" -> "vm0"); nullopt for other names.
std::optional<std::string> port_of_interface(std::string_view interface);
/// The capture-start spec streaming `port` to the passed descriptor: file=-, `direction`
/// (in/out/both), and the BPF filter: `filter` and `capture_filter` (tshark -f) joined with
/// "and" when both are given, with keyval escaping. An error naming the bad value otherwise.
config::Result<std::string> stream_spec(const std::string& port, const std::string& filter,
                                        const std::string& capture_filter,
                                        const std::string& direction);

}  // namespace uvs::extcap
