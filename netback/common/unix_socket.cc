// SPDX-License-Identifier: MIT
// Unix socket helpers: socket file access, and telling a listening socket from a connected one.
#include "netback/common/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace uvs::netback {

Status apply_socket_access(const std::string& path, const SocketAccess& a) {
  if (a.group != SocketAccess::kKeepGroup && ::lchown(path.c_str(), static_cast<uid_t>(-1), a.group) != 0) {
    return Status::fail(NetbackError::kSocket,
                        "cannot give socket '" + path + "' to group " + std::to_string(a.group),
                        errno);
  }
  if (a.mode != 0 && ::chmod(path.c_str(), a.mode & 0777) != 0) {
    return Status::fail(NetbackError::kSocket, "cannot set the mode of socket '" + path + "'",
                        errno);
  }
  return Status::success();
}

bool unix_path_fits(const std::string& path) noexcept {
  return !path.empty() && path.size() < sizeof(sockaddr_un::sun_path);
}

int socket_is_listening(int fd) noexcept {
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return -errno;
  if (type != SOCK_STREAM) return -ESOCKTNOSUPPORT;
  int acc = 0;
  len = sizeof acc;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) != 0) return -errno;
  return acc ? 1 : 0;
}

}  // namespace uvs::netback
