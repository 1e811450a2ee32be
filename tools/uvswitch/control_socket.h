// SPDX-License-Identifier: MIT
// ControlSocket: the daemon's listening AF_UNIX socket: single-instance lock, stale cleanup, 0600.
#pragma once

#include <sys/types.h>

#include <string>

namespace uvs::daemon {

/// Owns the listening control socket and its lock file ("<path>.lock"). Destruction closes the
/// socket and removes both files, so a clean exit leaves nothing behind. Move-only.
class ControlSocket {
 public:
  ControlSocket() = default;
  ~ControlSocket();
  ControlSocket(ControlSocket&& o) noexcept;
  ControlSocket& operator=(ControlSocket&& o) noexcept;
  ControlSocket(const ControlSocket&) = delete;
  ControlSocket& operator=(const ControlSocket&) = delete;

  /// Takes `path` for this daemon:
  ///  1. when `private_dir` is set, creates the socket's directory (mode 0700) if missing and
  ///     refuses one that is not a directory owned by us and closed to others (a pre-created
  ///     /tmp/uvswitch-<uid> must not let another user read our socket);
  ///  2. locks "<path>.lock" (flock, non-blocking) so two daemons starting together cannot both
  ///     take the path;
  ///  3. if a socket exists at `path`, connects to it: an answer means another live daemon and
  ///     start-up is refused; ECONNREFUSED means a stale socket, which is removed;
  ///  4. binds with mode 0600 and listens (non-blocking, close-on-exec).
  /// Returns false with a message naming the path in `*error`. Control thread, start-up only.
  bool open(const std::string& path, bool private_dir, std::string* error);

  /// Lets group `gid` reach the socket: the socket becomes 0660 and group `gid`, and with
  /// `private_dir` (the default runtime directory, which open() keeps 0700) the directory
  /// becomes 0710 and group `gid`, so members can reach the socket but not list the
  /// directory. The server still checks each client (ControlServer::Access). False with
  /// `*error`. Start-up, after open().
  bool share_with_group(gid_t gid, bool private_dir, std::string* error);

  /// Closes the socket and removes the socket and lock files now. Idempotent.
  void close();

  /// The listening fd (-1 when not open) and the path it is bound to.
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  int lock_fd_ = -1;
  std::string path_;
};

}  // namespace uvs::daemon
