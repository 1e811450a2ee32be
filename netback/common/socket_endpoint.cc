// SPDX-License-Identifier: MIT
// SocketEndpoint: listen / accept, connect / reconnect with backoff, inherited fds; and the bind
// and connect start-up calls of the socket ports.
#include "netback/common/socket_endpoint.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netback/common/netback_log.h"

namespace uvs::netback {

namespace {

// A path where a unix socket is to be bound: free, or a stale socket that is removed. A live
// listener (another uvswitch, a QEMU) answers a connect, and its path is never taken away; a
// socket left by a run that died refuses the connect.
Status claim_unix_path(const SocketAddress& local, int type) {
  const std::string path = local.to_string();
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return Status::success();
  if (!S_ISSOCK(st.st_mode)) {
    return Status::fail(NetbackError::kPathInUse,
                        "socket path '" + path + "' exists and is not a socket");
  }
  int probe = ::socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (probe >= 0) {
    int rc = ::connect(probe, local.sa(), local.len);
    int e = errno;
    ::close(probe);
    if (rc == 0 || e == EAGAIN) {
      return Status::fail(NetbackError::kPathInUse,
                          "socket path '" + path + "' has a live listener");
    }
  }
  ::unlink(path.c_str());
  return Status::success();
}

}  // namespace

SocketResult bind_socket(const SocketAddress& local, int type, int listen_backlog) {
  SocketResult res;
  const std::string text = local.to_string();
  if (local.is_unix()) {
    res.status = claim_unix_path(local, type);
    if (!res.status) return res;
  }
  int fd = ::socket(local.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    res.status = Status::fail(NetbackError::kSocket, "socket() for '" + text + "'", errno);
    return res;
  }
  if (!local.is_unix() && type == SOCK_STREAM) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (::bind(fd, local.sa(), local.len) != 0) {
    int e = errno;
    ::close(fd);
    res.status = Status::fail(NetbackError::kSocket, "bind to '" + text + "'", e);
    return res;
  }
  if (listen_backlog > 0 && ::listen(fd, listen_backlog) != 0) {
    int e = errno;
    ::close(fd);
    if (local.is_unix()) ::unlink(text.c_str());
    res.status = Status::fail(NetbackError::kSocket, "listen on '" + text + "'", e);
    return res;
  }
  res.fd = fd;
  return res;
}

int start_connect(const SocketAddress& remote, int type, bool* in_progress) noexcept {
  *in_progress = false;
  int fd = ::socket(remote.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  for (;;) {
    if (::connect(fd, remote.sa(), remote.len) == 0) return fd;
    if (errno == EINTR) continue;
    if (errno == EINPROGRESS) {
      *in_progress = true;
      return fd;
    }
    int e = errno;
    ::close(fd);
    return -e;
  }
}

int accept_peer(int listen_fd, SocketAddress* peer) noexcept {
  for (;;) {
    SocketAddress a;
    socklen_t len = sizeof a.storage;
    int fd = ::accept4(listen_fd, a.sa(), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      a.len = len;
      if (peer) *peer = a;
      return fd;
    }
    if (errno == EINTR) continue;
    return -errno;
  }
}

class SocketEndpoint::ListenHandler final : public ev::FdHandler {
 public:
  explicit ListenHandler(SocketEndpoint* ep) : ep_(ep) {}
  void on_readable() override { ep_->on_listen_readable(); }

 private:
  SocketEndpoint* ep_;
};

class SocketEndpoint::ConnectHandler final : public ev::FdHandler {
 public:
  explicit ConnectHandler(SocketEndpoint* ep) : ep_(ep) {}
  // A failed handshake may be reported as either (hang-up / error).
  void on_readable() override { ep_->finish_connect(); }
  void on_writable() override { ep_->finish_connect(); }

 private:
  SocketEndpoint* ep_;
};

SocketEndpoint::SocketEndpoint(ev::EventLoop& loop, EndpointListener* listener)
    : loop_(loop),
      listener_(listener),
      listen_handler_(std::make_unique<ListenHandler>(this)),
      connect_handler_(std::make_unique<ConnectHandler>(this)),
      timer_(loop, ev::Callback::bind<&SocketEndpoint::on_timer>(this)) {}

SocketEndpoint::~SocketEndpoint() {
  timer_.cancel();
  listen_reg_.reset();
  connect_reg_.reset();
  if (connecting_fd_ >= 0) ::close(connecting_fd_);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    // An inherited listener's path (if it has one) belongs to whoever created the socket.
    if (unlink_path_) ::unlink(opts_.address.to_string().c_str());
  }
}

Status SocketEndpoint::start(EndpointOptions options) {
  opts_ = std::move(options);
  switch (opts_.role) {
    case EndpointRole::kListen:
      return start_listening();
    case EndpointRole::kConnect:
      backoff_ = ReconnectBackoff(opts_.reconnect_min_ns, opts_.reconnect_max_ns);
      if (!backoff_.valid() || opts_.connect_timeout_ns <= 0) {
        return Status::fail(NetbackError::kInvalidOption, opts_.name + ": bad reconnect delays");
      }
      if (opts_.address.empty()) {
        return Status::fail(NetbackError::kInvalidOption, opts_.name + ": no peer address");
      }
      try_connect();
      return Status::success();
    case EndpointRole::kAdoptConnected:
    case EndpointRole::kAdoptListening:
      return adopt();
  }
  return Status::fail(NetbackError::kInvalidOption, opts_.name + ": bad endpoint role");
}

Status SocketEndpoint::start_listening() {
  // Backlog 1: one peer is served, the next may already wait (QEMU's servers do the same);
  // further ones are refused by the kernel until we accept again.
  SocketResult r = bind_socket(opts_.address, SOCK_STREAM, 1);
  if (!r.status) {
    r.status.message = opts_.name + ": " + r.status.message;
    return r.status;
  }
  if (opts_.address.is_unix()) {
    const std::string path = opts_.address.to_string();
    if (Status acc = apply_socket_access(path, opts_.access); !acc) {
      ::close(r.fd);
      ::unlink(path.c_str());
      acc.message = opts_.name + ": " + acc.message;
      return acc;
    }
    unlink_path_ = true;
  }
  listen_fd_ = r.fd;
  watch_listener();
  return Status::success();
}

Status SocketEndpoint::adopt() {
  const int fd = opts_.fd;
  if (fd < 0) return Status::fail(NetbackError::kInvalidOption, opts_.name + ": no fd given");
  const std::string what = opts_.name + ": fd " + std::to_string(fd);
  // An inherited fd is ours now: closed on every path below, non-blocking for the loop, and
  // not passed on to children.
  auto refuse = [&](Status st) {
    ::close(fd);
    return st;
  };
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    return refuse(Status::fail(NetbackError::kSocket, what, errno));
  }
  int listening = socket_is_listening(fd);
  if (listening < 0) {
    return refuse(Status::fail(NetbackError::kInvalidOption, what + " is not a stream socket",
                               -listening));
  }
  if ((listening == 1) != (opts_.role == EndpointRole::kAdoptListening)) {
    return refuse(Status::fail(NetbackError::kInvalidOption,
                               what + (listening ? " is a listening socket" : " is not listening")));
  }
  if (opts_.role == EndpointRole::kAdoptListening) {
    listen_fd_ = fd;
    watch_listener();
  } else {
    connected_ = true;
    listener_->endpoint_connected(fd, SocketAddress{});
  }
  return Status::success();
}

void SocketEndpoint::watch_listener() noexcept {
  listen_reg_ = loop_.add_fd(listen_fd_, ev::Events::kRead, listen_handler_.get());
}

void SocketEndpoint::on_listen_readable() noexcept {
  SocketAddress peer;
  int fd = accept_peer(listen_fd_, &peer);
  if (fd < 0) return;  // EAGAIN, or a connection that died in the backlog
  if (connected_) {
    ::close(fd);  // not reached: the listener is unwatched while a peer is connected
    return;
  }
  // One peer at a time: the next one waits in the backlog until this one leaves.
  listen_reg_.reset();
  connected_ = true;
  listener_->endpoint_connected(fd, peer);
}

void SocketEndpoint::try_connect() noexcept {
  if (connected_ || connecting_fd_ >= 0) return;
  bool in_progress = false;
  int fd = start_connect(opts_.address, SOCK_STREAM, &in_progress);
  if (fd < 0) {
    retry_later(std::strerror(-fd));
    return;
  }
  if (!in_progress) {
    backoff_.reset();
    logged_failure_ = false;
    connected_ = true;
    listener_->endpoint_connected(fd, opts_.address);
    return;
  }
  // TCP: the handshake completes later; writability (or an error) tells, SO_ERROR says which.
  connecting_fd_ = fd;
  connect_reg_ = loop_.add_fd(fd, ev::Events::kWrite, connect_handler_.get());
  timer_.arm_in(opts_.connect_timeout_ns);
}

void SocketEndpoint::finish_connect() noexcept {
  if (connecting_fd_ < 0) return;
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(connecting_fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err == EINPROGRESS || err == EALREADY) return;
  const int fd = connecting_fd_;
  connecting_fd_ = -1;
  connect_reg_.reset();
  timer_.cancel();
  if (err != 0) {
    ::close(fd);
    retry_later(std::strerror(err));
    return;
  }
  backoff_.reset();
  logged_failure_ = false;
  connected_ = true;
  listener_->endpoint_connected(fd, opts_.address);
}

void SocketEndpoint::on_timer() noexcept {
  if (connecting_fd_ < 0) {
    try_connect();
    return;
  }
  // The handshake is hanging (a peer that drops SYNs): give up on this attempt and retry.
  ++connect_timeouts_;
  connect_reg_.reset();
  ::close(connecting_fd_);
  connecting_fd_ = -1;
  retry_later("connect timed out");
}

void SocketEndpoint::retry_later(const char* why) noexcept {
  // One line per outage, not one per attempt.
  if (!logged_failure_) {
    log_port(LogLevel::kInfo, opts_.name, "waiting for %s at %s: %s", opts_.peer_kind,
             opts_.address.to_string().c_str(), why);
    logged_failure_ = true;
  }
  timer_.arm_in(backoff_.next());
}

void SocketEndpoint::connection_ended() noexcept {
  if (!connected_) return;
  connected_ = false;
  switch (opts_.role) {
    case EndpointRole::kListen:
    case EndpointRole::kAdoptListening:
      watch_listener();
      break;
    case EndpointRole::kConnect:
      timer_.arm_in(backoff_.next());
      break;
    case EndpointRole::kAdoptConnected:
      break;  // nobody to reconnect to
  }
}

std::string SocketEndpoint::local_address() const {
  if (listen_fd_ >= 0) return local_address_of(listen_fd_).to_string();
  return opts_.address.to_string();
}

}  // namespace uvs::netback
