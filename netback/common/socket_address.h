// SPDX-License-Identifier: MIT
// SocketAddress: a unix or IP socket address for the socket ports, parsed from option text.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "netback/common/netback_status.h"
#include "netback/common/unix_socket.h"

namespace uvs::netback {

/// A socket address of family AF_UNIX, AF_INET or AF_INET6, stored by value.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t len = 0;  ///< 0: no address

  int family() const noexcept { return len ? storage.ss_family : AF_UNSPEC; }
  bool empty() const noexcept { return len == 0; }
  bool is_unix() const noexcept { return family() == AF_UNIX; }
  const sockaddr* sa() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* sa() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
  /// IP port in host order; 0 for unix addresses.
  uint16_t port() const noexcept;
  /// "127.0.0.1:5555", "[::1]:5555", the unix path, or "" when empty. Allocates: control path.
  std::string to_string() const;
  /// True when `other` (`other_len` bytes, as recvmsg filled it) is this same endpoint: family,
  /// IP address and port (IPv6 flow info and scope ignored), or unix path. Data path: no
  /// allocation; an unnamed unix sender never matches.
  bool same_endpoint(const sockaddr_storage& other, socklen_t other_len) const noexcept;
};

/// A parsed address, or the Status (kInvalidOption) saying what is wrong with the text.
struct AddressResult {
  SocketAddress addr;
  Status status;
};

/// Parses "IPV4:PORT" or "[IPV6]:PORT" (numeric only: no name lookup, so start-up never blocks
/// on DNS; this is also the form config::SocketAddr::to_string() writes). `what` names the
/// option in the error message. Port 0 is allowed (the kernel picks one when binding).
AddressResult parse_ip_address(const std::string& text, const char* what);

/// Makes a unix socket address for `path`; fails when it is empty or does not fit sun_path.
AddressResult unix_address(const std::string& path, const char* what);

/// The address `fd` is bound to (getsockname); empty on failure. Control path.
SocketAddress local_address_of(int fd) noexcept;

}  // namespace uvs::netback
