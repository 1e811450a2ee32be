// SPDX-License-Identifier: MIT
// Value parsers for config keys; strict forms only, so a typo is an error and not a surprise.
#include "config/value_parser.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <string>

namespace uvs::config {
namespace {

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits "ADDR/PREFIX"; returns false when there is no single '/'.
bool split_prefix(std::string_view text, std::string_view* addr, std::string_view* prefix) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos || text.find('/', slash + 1) != std::string_view::npos) {
    return false;
  }
  *addr = text.substr(0, slash);
  *prefix = text.substr(slash + 1);
  return true;
}

}  // namespace

Result<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 10);
  if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size()) {
    return Error::make(ConfigError::kBadNumber, quoted(text) + " is not a number");
  }
  if (ec == std::errc::result_out_of_range || v < min || v > max) {
    return Error::make(
        ConfigError::kOutOfRange,
        std::string(text) + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
  }
  return v;
}

Result<bool> parse_bool(std::string_view text) {
  if (text == "on" || text == "yes" || text == "true") return true;
  if (text == "off" || text == "no" || text == "false") return false;
  return Error::make(ConfigError::kBadBool, quoted(text) + " is not on/off");
}

Result<MacAddr> parse_mac(std::string_view text) {
  MacAddr mac;
  bool ok = text.size() == 17;
  for (size_t i = 0; ok && i < 6; ++i) {
    int hi = hex_digit(text[i * 3]);
    int lo = hex_digit(text[i * 3 + 1]);
    bool sep_ok = i == 5 || text[i * 3 + 2] == ':';
    ok = hi >= 0 && lo >= 0 && sep_ok;
    mac.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  if (!ok) {
    return Error::make(
        ConfigError::kBadMac,
        quoted(text) + " is not a MAC address (expected 6 hex pairs like 52:54:00:12:34:56)");
  }
  if (mac.is_multicast()) {
    return Error::make(ConfigError::kBadMac,
                       quoted(text) +
                           " is a multicast MAC address (low bit of the first byte "
                           "is set); a port needs a unicast address");
  }
  if (mac.is_zero()) {
    return Error::make(ConfigError::kBadMac, quoted(text) + " is not a usable MAC address");
  }
  return mac;
}

Result<Ipv4Addr> parse_ipv4(std::string_view text) {
  // inet_pton(AF_INET) accepts exactly the dotted-quad form, unlike inet_aton.
  std::string s(text);
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) {
    return Error::make(ConfigError::kBadAddress, quoted(text) + " is not an IPv4 address");
  }
  return Ipv4Addr{ntohl(a.s_addr)};
}

Result<Ipv6Addr> parse_ipv6(std::string_view text) {
  std::string s(text);
  Ipv6Addr out;
  if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) != 1) {
    return Error::make(ConfigError::kBadAddress, quoted(text) + " is not an IPv6 address");
  }
  return out;
}

Result<IpAddr> parse_ip(std::string_view text) {
  if (auto v4 = parse_ipv4(text)) return IpAddr{IpFamily::kV4, *v4, {}};
  if (auto v6 = parse_ipv6(text)) return IpAddr{IpFamily::kV6, {}, *v6};
  return Error::make(ConfigError::kBadAddress, quoted(text) + " is not an IP address");
}

Result<Ipv4Net> parse_ipv4_net(std::string_view text) {
  std::string_view addr_text, prefix_text;
  auto bad = [&] {
    return Error::make(
        ConfigError::kBadCidr,
        quoted(text) + " is not a network (expected ADDRESS/PREFIX like 10.0.2.0/24)");
  };
  if (!split_prefix(text, &addr_text, &prefix_text)) return bad();
  auto addr = parse_ipv4(addr_text);
  if (!addr) return bad();
  auto prefix = parse_uint(prefix_text, 0, 32);
  if (!prefix) {
    return Error::make(
        ConfigError::kBadCidr,
        quoted(text) + ": prefix length must be 0..32, got '" + std::string(prefix_text) + "'");
  }
  Ipv4Net net{*addr, static_cast<uint8_t>(*prefix)};
  if ((addr->value & net.mask()) != addr->value) {
    Ipv4Net fixed{Ipv4Addr{addr->value & net.mask()}, net.prefix};
    return Error::make(ConfigError::kBadCidr, quoted(text) + " has host bits set (did you mean " +
                                                  fixed.to_string() + "?)");
  }
  return net;
}

Result<Ipv6Net> parse_ipv6_net(std::string_view text) {
  std::string_view addr_text, prefix_text;
  auto bad = [&] {
    return Error::make(
        ConfigError::kBadCidr,
        quoted(text) + " is not an IPv6 prefix (expected ADDRESS/LEN like fd00::/64)");
  };
  if (!split_prefix(text, &addr_text, &prefix_text)) return bad();
  auto addr = parse_ipv6(addr_text);
  if (!addr) return bad();
  auto prefix = parse_uint(prefix_text, 0, 128);
  if (!prefix) {
    return Error::make(
        ConfigError::kBadCidr,
        quoted(text) + ": prefix length must be 0..128, got '" + std::string(prefix_text) + "'");
  }
  Ipv6Net net{*addr, static_cast<uint8_t>(*prefix)};
  bool host_bits = false;
  for (size_t bit = net.prefix; bit < 128; ++bit) {
    if (addr->bytes[bit / 8] & (0x80 >> (bit % 8))) host_bits = true;
  }
  if (host_bits) {
    Ipv6Net fixed = net;
    for (size_t bit = net.prefix; bit < 128; ++bit) {
      fixed.addr.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
    }
    return Error::make(ConfigError::kBadCidr, quoted(text) + " has host bits set (did you mean " +
                                                  fixed.to_string() + "?)");
  }
  return net;
}

Result<SocketAddr> parse_socket_addr(std::string_view text) {
  auto bad = [&] {
    return Error::make(ConfigError::kBadHostPort,
                       quoted(text) + " is not IP:PORT (like 127.0.0.1:5000 or [::1]:5000)");
  };
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad();
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad();
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    // A bare IPv6 address has more colons; it needs brackets to be unambiguous.
    if (host.find(':') != std::string_view::npos) return bad();
  }
  SocketAddr out;
  if (text.front() == '[') {
    auto v6 = parse_ipv6(host);
    if (!v6) return bad();
    out.ip = IpAddr{IpFamily::kV6, {}, *v6};
  } else {
    auto v4 = parse_ipv4(host);
    if (!v4) return bad();
    out.ip = IpAddr{IpFamily::kV4, *v4, {}};
  }
  auto p = parse_uint(port, 1, 65535);
  if (!p) {
    if (p.error().code == ConfigError::kOutOfRange) {
      return Error::make(ConfigError::kOutOfRange, quoted(text) + ": port " + std::string(port) +
                                                       " is out of range 1..65535");
    }
    return bad();
  }
  out.port = static_cast<uint16_t>(*p);
  return out;
}

Result<uint16_t> parse_vlan(std::string_view text) {
  auto v = parse_uint(text, 1, 4094);
  if (!v) {
    return Error::make(ConfigError::kBadVlan,
                       quoted(text) + " is not a VLAN id (1..4094; 0 and 4095 are reserved)");
  }
  return static_cast<uint16_t>(*v);
}

Result<std::vector<uint16_t>> parse_vlan_list(std::string_view text) {
  std::vector<uint16_t> out;
  if (text.empty()) return Error::make(ConfigError::kBadVlan, "empty VLAN list");
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find_first_of(":,", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    if (item.empty()) {
      return Error::make(ConfigError::kBadVlan,
                         quoted(text) + " has an empty entry (write VLANs as 10:20:100-199)");
    }
    size_t dash = item.find('-');
    auto first = parse_vlan(item.substr(0, dash));
    if (!first) {
      return Error::make(ConfigError::kBadVlan,
                         "in VLAN list " + quoted(text) + ": " + first.error().message);
    }
    uint16_t last_v = *first;
    if (dash != std::string_view::npos) {
      auto last = parse_vlan(item.substr(dash + 1));
      if (!last) {
        return Error::make(ConfigError::kBadVlan,
                           "in VLAN list " + quoted(text) + ": " + last.error().message);
      }
      if (*last < *first) {
        return Error::make(ConfigError::kBadVlan, "in VLAN list " + quoted(text) + ": range " +
                                                      quoted(item) + " runs backwards");
      }
      last_v = *last;
    }
    for (uint32_t v = *first; v <= last_v; ++v) out.push_back(static_cast<uint16_t>(v));
    pos = end + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<void> check_ifname(std::string_view text) {
  constexpr size_t kMaxIfname = 15;  // IFNAMSIZ (16) including the terminating NUL
  if (text.empty() || text.size() > kMaxIfname) {
    return Error::make(ConfigError::kBadValue,
                       quoted(text) + " is not an interface name (1..15 characters)");
  }
  if (text == "." || text == "..") {
    return Error::make(ConfigError::kBadValue, quoted(text) + " is not an interface name");
  }
  for (char c : text) {
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\0') {
      return Error::make(ConfigError::kBadValue,
                         quoted(text) + " is not an interface name (no '/', ':' or spaces)");
    }
  }
  return {};
}

Result<void> check_domain_name(std::string_view text) {
  auto bad = [&](const char* why) {
    return Error::make(ConfigError::kBadValue,
                       quoted(text) + " is not a domain name (" + why + ")");
  };
  if (text.empty() || text.size() > 253) return bad("1..253 characters");
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('.', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view label = text.substr(pos, end - pos);
    if (label.empty() || label.size() > 63) return bad("each label is 1..63 characters");
    if (label.front() == '-' || label.back() == '-')
      return bad("a label cannot start or end with '-'");
    for (char c : label) {
      bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return bad("letters, digits, '-' and '.' only");
    }
    pos = end + 1;
  }
  return {};
}

}  // namespace uvs::config
