// SPDX-License-Identifier: MIT
// Value parsers: text to numbers, booleans, MACs, IPs, networks, IP:port and VLAN lists.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/net_types.h"
#include "config/result.h"

namespace uvs::config {

// Every parser here is a pure function. On bad input it returns an Error whose message names the
// value and says what was expected ("'abc' is not a number"); the caller prefixes the key.

/// Strict decimal unsigned integer in [min, max]: digits only, no sign, spaces or hex.
/// kBadNumber for non-digits or overflow, kOutOfRange outside [min, max].
Result<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max);

/// on/off, yes/no, true/false (QEMU's spellings). kBadBool otherwise.
Result<bool> parse_bool(std::string_view text);

/// "52:54:00:12:34:56" (hex, either case). kBadMac when malformed, multicast (I/G bit set) or
/// all-zero, since a port MAC must be a unicast station address.
Result<MacAddr> parse_mac(std::string_view text);

/// Dotted-quad IPv4. kBadAddress otherwise.
Result<Ipv4Addr> parse_ipv4(std::string_view text);
/// IPv6 text form (no brackets, no zone). kBadAddress otherwise.
Result<Ipv6Addr> parse_ipv6(std::string_view text);
/// Either family: IPv4 dotted quad or IPv6 text. kBadAddress otherwise.
Result<IpAddr> parse_ip(std::string_view text);

/// "10.0.2.0/24". kBadCidr when malformed, the prefix is over 32, or host bits are set (the
/// message suggests the network address).
Result<Ipv4Net> parse_ipv4_net(std::string_view text);
/// "fd00::/64". kBadCidr when malformed, the prefix is over 128, or host bits are set.
Result<Ipv6Net> parse_ipv6_net(std::string_view text);

/// "IPv4:PORT" or "[IPv6]:PORT", port 1..65535. kBadHostPort when malformed, kOutOfRange for
/// port 0 or above 65535. Host names are refused: config never resolves names.
Result<SocketAddr> parse_socket_addr(std::string_view text);

/// An 802.1Q VLAN id, 1..4094 (0 and 4095 are reserved, IEEE 802.1Q-2018 9.6). kBadVlan.
Result<uint16_t> parse_vlan(std::string_view text);

/// A trunk list: VLAN ids and inclusive ranges separated by ':' (or by a literal ',', which in a
/// keyval spec is written ",,"), e.g. "10:20:100-199". Returned sorted, without duplicates.
/// kBadVlan for an empty list, a bad id, or a range whose start exceeds its end.
Result<std::vector<uint16_t>> parse_vlan_list(std::string_view text);

/// A Linux network interface name: 1..15 bytes (IFNAMSIZ - 1), no '/', ':' or whitespace, not
/// "." or ".." (the kernel's dev_valid_name rules, plus ':' which it reserves for aliases).
/// kBadValue otherwise.
Result<void> check_ifname(std::string_view text);

/// A DNS domain name: dot-separated labels of 1..63 letters, digits and '-', not starting or
/// ending with '-', at most 253 bytes in total (RFC 1035 2.3.1, RFC 1123 2.1). kBadValue.
Result<void> check_domain_name(std::string_view text);

}  // namespace uvs::config
