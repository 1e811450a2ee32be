// SPDX-License-Identifier: MIT
// ControlClient: AF_UNIX connect, request write, reply line read with a deadline.
#include "tools/uvswitchctl/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace uvs::ctl {
namespace {

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool ControlClient::connect(const std::string& path, std::string* error) {
  path_ = path;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) {
    *error = "control socket path " + path + " is too long";
    return false;
  }
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int err = errno;
    *error = "cannot connect to uvswitch at " + path + ": " + std::strerror(err);
    if (err == ENOENT || err == ECONNREFUSED) {
      *error +=
          " (is the daemon running? start it with 'uvswitch', or pass --control PATH "
          "if it listens elsewhere)";
    }
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

bool ControlClient::read_line(std::string* line, int timeout_ms, std::string* error) {
  const int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    size_t nl = buf_.find('\n');
    if (nl != std::string::npos) {
      *line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return true;
    }
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      *error =
          "no reply from uvswitch at " + path_ + " within " + std::to_string(timeout_ms) + " ms";
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;  // timeout is handled at the top
    char chunk[16 * 1024];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = n == 0 ? "uvswitch at " + path_ + " closed the connection without a reply"
                      : "receive from " + path_ + ": " + std::strerror(errno);
      return false;
    }
    buf_.append(chunk, static_cast<size_t>(n));
  }
}

CallResult ControlClient::call(const std::string& name, const Json& args, int timeout_ms,
                               std::span<const int> fds) {
  CallResult r;
  Json request{{"execute", name}};
  if (!args.is_null() && !args.empty()) request["arguments"] = args;
  std::string line = request.dump() + "\n";
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n;
    if (off == 0 && !fds.empty()) {
      // The descriptors travel with the first bytes of the request line.
      iovec iov{line.data(), line.size()};
      std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.data();
      msg.msg_controllen = control.size();
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
      n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    } else {
      n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r.error = "send to " + path_ + ": " + std::strerror(errno);
      return r;
    }
    off += static_cast<size_t>(n);
  }
  if (!read_line(&r.raw, timeout_ms, &r.error)) return r;
  try {
    r.reply = Json::parse(r.raw);
  } catch (const Json::parse_error& e) {
    r.error = std::string("uvswitch sent a reply that is not JSON: ") + e.what();
    return r;
  }
  if (!r.reply.is_object() || (!r.reply.contains("return") && !r.reply.contains("error"))) {
    r.error = "uvswitch sent a reply with neither \"return\" nor \"error\": " + r.raw;
    return r;
  }
  r.transport_ok = true;
  return r;
}

bool ControlClient::wait_closed(int timeout_ms) {
  const int64_t deadline = now_ms() + timeout_ms;
  char chunk[4096];
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno != EINTR) return false;
    if (rc <= 0) continue;
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0) return true;
    if (n < 0 && errno != EINTR) return true;  // reset: closed as well
  }
}

}  // namespace uvs::ctl
