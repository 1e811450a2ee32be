// SPDX-License-Identifier: MIT
// SocketAddress parsing, formatting and comparison.
#include "netback/common/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace uvs::netback {

namespace {

AddressResult bad(const char* what, const std::string& text, const char* why) {
  AddressResult r;
  r.status = Status::fail(NetbackError::kInvalidOption,
                          std::string(what) + " '" + text + "': " + why);
  return r;
}

bool parse_port(const std::string& s, uint16_t* port) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + unsigned(c - '0');
  }
  if (v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

}  // namespace

uint16_t SocketAddress::port() const noexcept {
  switch (family()) {
    case AF_INET: return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
    case AF_INET6: return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
    default: return 0;
  }
}

std::string SocketAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (family()) {
    case AF_INET: {
      auto* in = reinterpret_cast<const sockaddr_in*>(&storage);
      inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
      return std::string(buf) + ":" + std::to_string(port());
    }
    case AF_INET6: {
      auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage);
      inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
      return "[" + std::string(buf) + "]:" + std::to_string(port());
    }
    case AF_UNIX: {
      auto* un = reinterpret_cast<const sockaddr_un*>(&storage);
      size_t max = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
      return std::string(un->sun_path, strnlen(un->sun_path, max));
    }
    default: return "";
  }
}

AddressResult parse_ip_address(const std::string& text, const char* what) {
  AddressResult r;
  std::string host;
  std::string port_text;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad(what, text, "expected [IPV6]:PORT");
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&r.addr.storage);
    if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) {
      return bad(what, text, "not a numeric IPv6 address");
    }
    in6->sin6_family = AF_INET6;
    r.addr.len = sizeof(sockaddr_in6);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return bad(what, text, "expected IPV4:PORT");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    auto* in = reinterpret_cast<sockaddr_in*>(&r.addr.storage);
    // inet_pton(AF_INET) takes only the dotted quad, so "1" or "0x7f.1" are refused.
    if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1) {
      return bad(what, text, "not a numeric IPv4 address (use [addr]:port for IPv6)");
    }
    in->sin_family = AF_INET;
    r.addr.len = sizeof(sockaddr_in);
  }
  uint16_t port = 0;
  if (!parse_port(port_text, &port)) {
    r.addr = SocketAddress{};
    return bad(what, text, "port must be 0..65535");
  }
  if (r.addr.family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&r.addr.storage)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(&r.addr.storage)->sin6_port = htons(port);
  }
  return r;
}

AddressResult unix_address(const std::string& path, const char* what) {
  AddressResult r;
  if (!unix_path_fits(path)) return bad(what, path, "socket path is empty or too long");
  auto* un = reinterpret_cast<sockaddr_un*>(&r.addr.storage);
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.c_str(), path.size() + 1);
  r.addr.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return r;
}

SocketAddress local_address_of(int fd) noexcept {
  SocketAddress a;
  socklen_t len = sizeof a.storage;
  if (::getsockname(fd, a.sa(), &len) != 0) return SocketAddress{};
  a.len = len;
  return a;
}

bool SocketAddress::same_endpoint(const sockaddr_storage& o, socklen_t olen) const noexcept {
  if (len == 0 || olen < sizeof(sa_family_t) || o.ss_family != storage.ss_family) return false;
  switch (storage.ss_family) {
    case AF_INET: {
      if (olen < sizeof(sockaddr_in)) return false;
      const auto& a = reinterpret_cast<const sockaddr_in&>(storage);
      const auto& b = reinterpret_cast<const sockaddr_in&>(o);
      return a.sin_port == b.sin_port && a.sin_addr.s_addr == b.sin_addr.s_addr;
    }
    case AF_INET6: {
      if (olen < sizeof(sockaddr_in6)) return false;
      const auto& a = reinterpret_cast<const sockaddr_in6&>(storage);
      const auto& b = reinterpret_cast<const sockaddr_in6&>(o);
      return a.sin6_port == b.sin6_port &&
             std::memcmp(&a.sin6_addr, &b.sin6_addr, sizeof a.sin6_addr) == 0;
    }
    case AF_UNIX: {
      const auto& a = reinterpret_cast<const sockaddr_un&>(storage);
      const auto& b = reinterpret_cast<const sockaddr_un&>(o);
      const size_t off = offsetof(sockaddr_un, sun_path);
      if (olen <= off) return false;  // unnamed sender
      const size_t na = strnlen(a.sun_path, len - off);
      const size_t nb = strnlen(b.sun_path, olen - off);
      return na == nb && std::memcmp(a.sun_path, b.sun_path, na) == 0;
    }
    default:
      return false;
  }
}

}  // namespace uvs::netback
