// SPDX-License-Identifier: MIT
// Unix stream socket helpers for vhost-user: listen (replacing a stale socket), connect, accept,
// and whether an inherited fd is a listener.
#pragma once

#include <sys/types.h>

#include <string>

#include "netback/common/netback_status.h"

namespace uvs::netback {

/// A socket fd or the Status saying why there is none.
struct SocketResult {
  int fd = -1;
  Status status;
};

/// Binds and listens at `path` (non-blocking, close-on-exec, backlog 1 pending frontend).
/// An existing file at `path` is unlinked only if it is a socket (a stale one from a previous
/// run); anything else fails with kPathInUse. Control path.
SocketResult listen_unix(const std::string& path);

/// Who may connect to a unix socket we bind. Connecting needs write permission on the socket
/// file, so the default (bind() under the usual umask 022: 0755) admits only our own user and
/// root; `mode` 0660 with `group` admits a VMM running as another user of that group (libvirt's
/// libvirt-qemu) and nobody else.
struct SocketAccess {
  static constexpr gid_t kKeepGroup = static_cast<gid_t>(-1);
  unsigned mode = 0;          ///< permission bits to set; 0: leave what bind() made
  gid_t group = kKeepGroup;   ///< group to give the socket; kKeepGroup: ours
  bool operator==(const SocketAccess&) const = default;
};

/// Applies `access` to the socket file at `path` (lchown, then chmod). kSocket with errno when
/// the kernel refuses (EPERM: a group we are not in, unless root). Control path.
Status apply_socket_access(const std::string& path, const SocketAccess& access);

/// Connects a non-blocking, close-on-exec stream socket to `path`. Returns the fd, or -errno
/// (ENOENT / ECONNREFUSED while the listener is not up yet; EAGAIN when its backlog is full).
int connect_unix(const std::string& path) noexcept;

/// Accepts one connection (non-blocking, close-on-exec). Returns the fd or -errno.
int accept_unix(int listen_fd) noexcept;

/// Whether `fd` is a listening stream socket (SO_ACCEPTCONN): 1 listening, 0 a connected or
/// unconnected stream socket, -errno when it is no socket (ENOTSOCK), closed (EBADF) or not a
/// stream socket (ESOCKTNOSUPPORT). Lets `--fd` take either what libvirt passes (a connected
/// socket) or a listener. Control path.
int socket_is_listening(int fd) noexcept;

/// Whether `path` fits in sockaddr_un::sun_path.
bool unix_path_fits(const std::string& path) noexcept;

}  // namespace uvs::netback
