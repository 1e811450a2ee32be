// SPDX-License-Identifier: MIT
// Inherited-fd checks, done at config time so a wrong --fd / fd= fails before anything starts.
#include "config/fd_check.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <string>

#include "config/value_parser.h"

namespace uvs::config {

Result<int> parse_socket_fd(std::string_view text) {
  UVS_CFG_ASSIGN_OR_RETURN(uint64_t n, parse_uint(text, 0, INT_MAX));
  int fd = static_cast<int>(n);
  std::string name = "fd " + std::to_string(fd);
  if (::fcntl(fd, F_GETFD) < 0) {
    return Error::make(ConfigError::kBadValue,
                       name + " is not open (the launcher must pass it to uvswitch)");
  }
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    return Error::make(ConfigError::kBadValue,
                       name + (errno == ENOTSOCK ? " is not a socket" : " cannot be inspected"));
  }
  if (type != SOCK_STREAM) {
    return Error::make(ConfigError::kBadValue,
                       name + " is not a stream socket (vhost-user needs SOCK_STREAM)");
  }
  return fd;
}

}  // namespace uvs::config
