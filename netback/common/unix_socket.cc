// SPDX-License-Identifier: MIT
// Unix stream socket helpers: listen with stale-socket cleanup, non-blocking connect and accept,
// and telling a listening socket from a connected one.
#include "netback/common/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace uvs::netback {

namespace {

bool make_addr(const std::string& path, sockaddr_un* sa) noexcept {
  if (!unix_path_fits(path)) return false;
  std::memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  std::memcpy(sa->sun_path, path.c_str(), path.size() + 1);
  return true;
}

}  // namespace

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

SocketResult listen_unix(const std::string& path) {
  SocketResult res;
  sockaddr_un sa;
  if (!make_addr(path, &sa)) {
    res.status = Status::fail(NetbackError::kInvalidOption,
                              "socket path '" + path + "' is empty or too long");
    return res;
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      res.status = Status::fail(NetbackError::kPathInUse,
                                "socket path '" + path + "' exists and is not a socket");
      return res;
    }
    // A live listener (another uvswitch, a QEMU) answers a connect: never take its path away.
    // A socket left by a run that died refuses the connect and is replaced.
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
      int rc = ::connect(probe, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
      int e = errno;
      ::close(probe);
      if (rc == 0 || e == EAGAIN) {
        res.status = Status::fail(NetbackError::kPathInUse,
                                  "socket path '" + path + "' has a live listener");
        return res;
      }
    }
    ::unlink(path.c_str());
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    res.status = Status::fail(NetbackError::kSocket, "socket()", errno);
    return res;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 1) != 0) {
    int e = errno;
    ::close(fd);
    res.status = Status::fail(NetbackError::kSocket, "listen on '" + path + "'", e);
    return res;
  }
  res.fd = fd;
  return res;
}

int connect_unix(const std::string& path) noexcept {
  sockaddr_un sa;
  if (!make_addr(path, &sa)) return -EINVAL;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  for (;;) {
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) return fd;
    if (errno == EINTR) continue;
    int e = errno;
    ::close(fd);
    return -e;
  }
}

int accept_unix(int listen_fd) noexcept {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno == EINTR) continue;
    return -errno;
  }
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
