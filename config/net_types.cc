// SPDX-License-Identifier: MIT
// Text forms of the config network value types.
#include "config/net_types.h"

#include <arpa/inet.h>

#include <cstdio>

namespace uvs::config {

bool MacAddr::is_zero() const {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

std::string MacAddr::to_string() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                bytes[3], bytes[4], bytes[5]);
  return buf;
}

std::string Ipv4Addr::to_string() const {
  char buf[INET_ADDRSTRLEN];
  in_addr a{htonl(value)};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::string Ipv6Addr::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::string IpAddr::to_string() const {
  return family == IpFamily::kV4 ? v4.to_string() : v6.to_string();
}

std::string Ipv4Net::to_string() const {
  return addr.to_string() + "/" + std::to_string(prefix);
}

std::string Ipv6Net::to_string() const {
  return addr.to_string() + "/" + std::to_string(prefix);
}

std::string SocketAddr::to_string() const {
  if (ip.family == IpFamily::kV6) return "[" + ip.to_string() + "]:" + std::to_string(port);
  return ip.to_string() + ":" + std::to_string(port);
}

}  // namespace uvs::config
