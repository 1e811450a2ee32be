// SPDX-License-Identifier: MIT
// Unix socket helpers: who may connect to a socket we bind, whether an inherited fd is a
// listener, and the SocketResult the bind calls return.
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

/// Whether `fd` is a listening stream socket (SO_ACCEPTCONN): 1 listening, 0 a connected or
/// unconnected stream socket, -errno when it is no socket (ENOTSOCK), closed (EBADF) or not a
/// stream socket (ESOCKTNOSUPPORT). Lets `--fd` take either what libvirt passes (a connected
/// socket) or a listener. Control path.
int socket_is_listening(int fd) noexcept;

/// Whether `path` fits in sockaddr_un::sun_path.
bool unix_path_fits(const std::string& path) noexcept;

}  // namespace uvs::netback
