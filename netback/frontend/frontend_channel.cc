// SPDX-License-Identifier: MIT
// FrontendChannel: socket set-up, SCM_RIGHTS sends and timed framed receives.
#include "netback/frontend/frontend_channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace uvs::frontend {

namespace vu = netback::vu;

namespace {

int64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int remaining_ms(int64_t deadline_ns) {
  int64_t left = deadline_ns - mono_ns();
  if (left <= 0) return 0;
  return static_cast<int>((left + 999'999) / 1'000'000);
}

bool make_addr(const std::string& path, sockaddr_un* addr) {
  if (path.empty() || path.size() >= sizeof(addr->sun_path)) return false;
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, path.c_str(), path.size());
  return true;
}

// The most fds one message carries; vhost-user sends at most 8 (a memory table), faults more.
constexpr size_t kMaxSendFds = 64;

// Puts `fds` in `msg` as one SCM_RIGHTS control message in `cbuf` (CMSG_SPACE of kMaxSendFds).
void attach_fds(msghdr& msg, char* cbuf, std::span<const int> fds) {
  if (fds.empty()) return;
  msg.msg_control = cbuf;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
}

}  // namespace

FrontendChannel::~FrontendChannel() {
  close();
  close_listener();
}

void FrontendChannel::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void FrontendChannel::close_listener() noexcept {
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(listen_path_.c_str());
  }
  listen_fd_ = -1;
  listen_path_.clear();
}

Status FrontendChannel::connect(const std::string& path, int timeout_ms) {
  close();
  sockaddr_un addr;
  if (!make_addr(path, &addr)) {
    return Status::fail(FrontendError::kInvalidArgument, "socket path empty or too long: " + path);
  }
  int64_t deadline = mono_ns() + int64_t(timeout_ms) * 1'000'000;
  for (;;) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::fail(FrontendError::kSocket, "socket", errno);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
      fd_ = fd;
      return Status::success();
    }
    int e = errno;
    ::close(fd);
    // The backend may not have created (or started listening on) its socket yet.
    bool retry = e == ENOENT || e == ECONNREFUSED || e == EAGAIN;
    if (!retry) return Status::fail(FrontendError::kSocket, "connect " + path, e);
    if (mono_ns() >= deadline) return Status::fail(FrontendError::kTimeout, "connect " + path, e);
    usleep(5000);
  }
}

Status FrontendChannel::listen(const std::string& path) {
  close_listener();
  sockaddr_un addr;
  if (!make_addr(path, &addr)) {
    return Status::fail(FrontendError::kInvalidArgument, "socket path empty or too long: " + path);
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::fail(FrontendError::kSocket, "socket", errno);
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 1) != 0) {
    int e = errno;
    ::close(fd);
    return Status::fail(FrontendError::kSocket, "bind/listen " + path, e);
  }
  listen_fd_ = fd;
  listen_path_ = path;
  return Status::success();
}

Status FrontendChannel::accept(int timeout_ms) {
  if (listen_fd_ < 0) return Status::fail(FrontendError::kInvalidArgument, "accept without listen");
  close();
  pollfd p{listen_fd_, POLLIN, 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r < 0) return Status::fail(FrontendError::kSocket, "poll listener", errno);
  if (r == 0) return Status::fail(FrontendError::kTimeout, "accept on " + listen_path_);
  int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return Status::fail(FrontendError::kSocket, "accept", errno);
  fd_ = fd;
  return Status::success();
}

Status FrontendChannel::send(const vu::VhostUserHeader& hdr, std::span<const uint8_t> payload,
                             std::span<const int> fds) {
  if (fd_ < 0) return Status::fail(FrontendError::kNotConnected, "send");
  if (fds.size() > kMaxSendFds) return Status::fail(FrontendError::kInvalidArgument, "too many fds to send");
  iovec iov[2] = {{const_cast<vu::VhostUserHeader*>(&hdr), sizeof(hdr)},
                  {const_cast<uint8_t*>(payload.data()), payload.size()}};
  size_t total = sizeof(hdr) + payload.size();
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxSendFds)];
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload.empty() ? 1 : 2;
  attach_fds(msg, cbuf, fds);
  size_t sent = 0;
  while (sent < total) {
    ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::fail(FrontendError::kSendFailed, "sendmsg", errno);
    }
    sent += static_cast<size_t>(n);
    // A short send: continue with the rest, fds already went with the first chunk.
    msg.msg_control = nullptr;
    msg.msg_controllen = 0;
    size_t skip = static_cast<size_t>(n);
    while (msg.msg_iovlen > 0 && skip >= msg.msg_iov[0].iov_len) {
      skip -= msg.msg_iov[0].iov_len;
      ++msg.msg_iov;
      --msg.msg_iovlen;
    }
    if (msg.msg_iovlen > 0) {
      msg.msg_iov[0].iov_base = static_cast<uint8_t*>(msg.msg_iov[0].iov_base) + skip;
      msg.msg_iov[0].iov_len -= skip;
    }
  }
  return Status::success();
}

Status FrontendChannel::send_bytes(std::span<const uint8_t> bytes, std::span<const int> fds) {
  if (fd_ < 0) return Status::fail(FrontendError::kNotConnected, "send");
  if (bytes.empty() || fds.size() > kMaxSendFds) {
    return Status::fail(FrontendError::kInvalidArgument, "send_bytes needs 1+ bytes and <= 64 fds");
  }
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxSendFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  attach_fds(msg, cbuf, fds);
  ssize_t n;
  do {
    n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Status::fail(FrontendError::kSendFailed, "sendmsg", errno);
  if (static_cast<size_t>(n) < bytes.size()) {
    return send_bytes(bytes.subspan(static_cast<size_t>(n)), {});
  }
  return Status::success();
}

Status FrontendChannel::read_exact(uint8_t* dst, size_t len, int64_t deadline_ns) {
  size_t got = 0;
  while (got < len) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline_ns));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::fail(FrontendError::kSocket, "poll", errno);
    }
    if (r == 0) return Status::fail(FrontendError::kTimeout, "waiting for a reply");
    iovec iov{dst + got, len - got};
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 8)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof(cbuf);
    ssize_t n = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNRESET) return Status::fail(FrontendError::kPeerClosed, "recv", errno);
      return Status::fail(FrontendError::kSocket, "recvmsg", errno);
    }
    if (n == 0) return Status::fail(FrontendError::kPeerClosed, "recv");
    // We never negotiate messages that carry fds toward the frontend; do not leak any.
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < nfds; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          ::close(fd);
        }
      }
    }
    got += static_cast<size_t>(n);
  }
  return Status::success();
}

Status FrontendChannel::recv(vu::VhostUserHeader* hdr, std::span<uint8_t> payload,
                             uint32_t* payload_len, int timeout_ms) {
  if (fd_ < 0) return Status::fail(FrontendError::kNotConnected, "recv");
  int64_t deadline = mono_ns() + int64_t(timeout_ms) * 1'000'000;
  Status s = read_exact(reinterpret_cast<uint8_t*>(hdr), sizeof(*hdr), deadline);
  if (!s) return s;
  *payload_len = hdr->size;
  if (hdr->size > payload.size()) {
    return Status::fail(FrontendError::kBadReply,
                        "reply to request " + std::to_string(hdr->request) + " announces " +
                            std::to_string(hdr->size) + " bytes");
  }
  return read_exact(payload.data(), hdr->size, deadline);
}

bool FrontendChannel::wait_peer_closed(int timeout_ms) {
  if (fd_ < 0) return true;
  int64_t deadline = mono_ns() + int64_t(timeout_ms) * 1'000'000;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r < 0 && errno != EINTR) return false;
    if (r == 0) return false;
    if (r > 0) {
      uint8_t buf[512];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) {
        close();
        return true;
      }
      if (p.revents & (POLLHUP | POLLERR) && n < 0 && errno != EAGAIN) {
        close();
        return true;
      }
    }
  }
}

}  // namespace uvs::frontend
