// SPDX-License-Identifier: MIT
// Plain network value types for configuration: MAC, IPv4/IPv6 address and network, IP:port.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace uvs::config {

/// An Ethernet MAC address.
struct MacAddr {
  std::array<uint8_t, 6> bytes{};

  /// The I/G bit (IEEE 802-2014 8.2): set for group (multicast/broadcast) addresses.
  bool is_multicast() const { return (bytes[0] & 0x01) != 0; }
  /// True for 00:00:00:00:00:00, which no station may use.
  bool is_zero() const;
  /// "52:54:00:12:34:56", lower-case.
  std::string to_string() const;
  bool operator==(const MacAddr&) const = default;
};

/// An IPv4 address in host byte order, so arithmetic and masks read naturally.
struct Ipv4Addr {
  uint32_t value = 0;
  /// Dotted quad.
  std::string to_string() const;
  bool operator==(const Ipv4Addr&) const = default;
};

/// An IPv6 address in network byte order.
struct Ipv6Addr {
  std::array<uint8_t, 16> bytes{};
  /// RFC 5952 text (via inet_ntop).
  std::string to_string() const;
  bool operator==(const Ipv6Addr&) const = default;
};

enum class IpFamily { kV4, kV6 };

/// Either family of address; `family` says which member is meaningful.
struct IpAddr {
  IpFamily family = IpFamily::kV4;
  Ipv4Addr v4;
  Ipv6Addr v6;
  std::string to_string() const;
  bool operator==(const IpAddr&) const = default;
};

/// An IPv4 network: base address with the host bits clear, plus prefix length 0..32.
struct Ipv4Net {
  Ipv4Addr addr;
  uint8_t prefix = 0;

  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }
  bool contains(Ipv4Addr a) const { return (a.value & mask()) == addr.value; }
  /// The all-ones host address (not usable by hosts).
  Ipv4Addr broadcast() const { return Ipv4Addr{addr.value | ~mask()}; }
  /// The address `offset` hosts into the network (no range check).
  Ipv4Addr at(uint32_t offset) const { return Ipv4Addr{addr.value + offset}; }
  /// "10.0.2.0/24".
  std::string to_string() const;
  bool operator==(const Ipv4Net&) const = default;
};

/// An IPv6 prefix: base address with the host bits clear, plus prefix length 0..128.
struct Ipv6Net {
  Ipv6Addr addr;
  uint8_t prefix = 0;
  /// "fd00::/64".
  std::string to_string() const;
  bool operator==(const Ipv6Net&) const = default;
};

/// An IP address and a port ("127.0.0.1:5000", "[::1]:5000").
struct SocketAddr {
  IpAddr ip;
  uint16_t port = 0;
  std::string to_string() const;
  bool operator==(const SocketAddr&) const = default;
};

}  // namespace uvs::config
