// SPDX-License-Identifier: MIT
// ControlSocket: locking, live-daemon detection, stale-socket removal and the 0600 bind.
#include "tools/uvswitch/control_socket.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace uvs::daemon {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

bool make_addr(const std::string& path, sockaddr_un* sa) {
  std::memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (path.size() >= sizeof sa->sun_path) return false;
  std::memcpy(sa->sun_path, path.c_str(), path.size() + 1);
  return true;
}

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool ensure_private_dir(const std::string& dir, std::string* error) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "cannot create directory " + dir + ": " + errno_text();
    return false;
  }
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) {
    *error = "cannot stat " + dir + ": " + errno_text();
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    *error = dir + " is not a directory";
    return false;
  }
  if (st.st_uid != geteuid() || (st.st_mode & 0022) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    *error = dir + " is not a private directory of this user (owner uid " +
             std::to_string(st.st_uid) + ", mode " + mode + "); remove it or pass --control";
    return false;
  }
  return true;
}

}  // namespace

ControlSocket::~ControlSocket() {
  close();
}

ControlSocket::ControlSocket(ControlSocket&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      lock_fd_(std::exchange(o.lock_fd_, -1)),
      path_(std::move(o.path_)) {}

ControlSocket& ControlSocket::operator=(ControlSocket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    lock_fd_ = std::exchange(o.lock_fd_, -1);
    path_ = std::move(o.path_);
  }
  return *this;
}

bool ControlSocket::open(const std::string& path, bool private_dir, std::string* error) {
  close();
  sockaddr_un sa{};
  if (!make_addr(path, &sa)) {
    *error = "control socket path " + path + " is too long";
    return false;
  }
  const std::string dir = parent_dir(path);
  if (private_dir && !ensure_private_dir(dir, error)) return false;

  const std::string lock_path = path + ".lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0) {
    *error = "cannot open lock file " + lock_path + ": " + errno_text();
    return false;
  }
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    *error = "another uvswitch is already running on " + path + " (it holds " + lock_path +
             "; stop it with: uvswitchctl --control " + path + " quit)";
    ::close(lock_fd);
    return false;
  }

  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *error = path + " exists and is not a socket";
      ::close(lock_fd);
      return false;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = probe >= 0 ? connect(probe, reinterpret_cast<sockaddr*>(&sa), sizeof sa) : -1;
    int err = errno;
    if (probe >= 0) ::close(probe);
    if (rc == 0) {
      *error = "another uvswitch is already running on " + path +
               " (stop it with: uvswitchctl --control " + path + " quit)";
      ::close(lock_fd);
      return false;
    }
    if (err != ECONNREFUSED) {
      *error = "cannot probe existing socket " + path + ": " + std::strerror(err);
      ::close(lock_fd);
      return false;
    }
    // Nobody listens: a daemon died without cleaning up. We hold the lock, so removing it races
    // with no other uvswitch.
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      *error = "cannot remove stale socket " + path + ": " + errno_text();
      ::close(lock_fd);
      return false;
    }
  }

  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "socket(AF_UNIX): " + errno_text();
    ::close(lock_fd);
    return false;
  }
  // The socket file must never be visible with wider permissions than 0600, so set the umask
  // around bind (still single-threaded here) instead of chmod after the fact.
  mode_t old_mask = umask(0177);
  int rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  int bind_err = errno;
  umask(old_mask);
  if (rc != 0) {
    *error = "cannot bind control socket " + path + ": " + std::strerror(bind_err);
    ::close(fd);
    ::close(lock_fd);
    return false;
  }
  fd_ = fd;
  lock_fd_ = lock_fd;
  path_ = path;
  if (listen(fd, 16) != 0) {
    *error = "cannot listen on " + path + ": " + errno_text();
    close();
    return false;
  }
  return true;
}

bool ControlSocket::share_with_group(gid_t gid, bool private_dir, std::string* error) {
  if (private_dir) {
    const std::string dir = parent_dir(path_);
    if (lchown(dir.c_str(), static_cast<uid_t>(-1), gid) != 0 || chmod(dir.c_str(), 0710) != 0) {
      *error = "cannot open directory " + dir + " to the group: " + errno_text();
      return false;
    }
  }
  if (lchown(path_.c_str(), static_cast<uid_t>(-1), gid) != 0 || chmod(path_.c_str(), 0660) != 0) {
    *error = "cannot give control socket " + path_ + " to the group: " + errno_text();
    return false;
  }
  return true;
}

void ControlSocket::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    unlink(path_.c_str());
  }
  if (lock_fd_ >= 0) {
    // Unlink while still holding the lock, then release it.
    unlink((path_ + ".lock").c_str());
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

}  // namespace uvs::daemon
