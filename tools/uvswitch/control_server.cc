// SPDX-License-Identifier: MIT
// ControlServer: accept loop, per-client line framing, JSON parsing and buffered replies.
#include "tools/uvswitch/control_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "tools/uvswitch/log.h"

namespace uvs::daemon {

/// One client. Owned by the server; closes by retiring itself, so it is never freed while one of
/// its own callbacks is on the stack.
class ControlServer::Connection final : public ev::FdHandler {
 public:
  Connection(ControlServer& server, int fd) : server_(server), fd_(fd) {}
  ~Connection() override {
    reg_.reset();
    if (fd_ >= 0) ::close(fd_);
    for (int fd : fds_) ::close(fd);
  }

  void start() { reg_ = server_.loop_.add_fd(fd_, ev::Events::kRead, this); }

  /// Answers the client's first request with this error instead of running it, then hangs
  /// up (replying at once would race the client's send: it would see EPIPE, not the reason).
  void refuse(std::string why) { refused_ = std::move(why); }

  void on_readable() override {
    char buf[16 * 1024];
    for (;;) {
      ssize_t n = receive(buf, sizeof buf);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
        if (!process_lines()) return;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n == 0) {
        // The client finished sending (it may have only shut down its write side, as
        // `socat -` does): deliver the replies still queued, then hang up.
        peer_done_ = true;
        break;
      }
      close();  // a receive error: the replies cannot be delivered either
      return;
    }
    flush();
  }

  void on_writable() override { flush(); }

  /// Sends what the socket takes now and closes. Used at shutdown.
  void close_now() {
    flush();
    close();
  }

 private:
  // recv() that also collects descriptors passed with SCM_RIGHTS (they ride on the request
  // line's bytes; the next dispatched line gets them).
  ssize_t receive(char* buf, size_t size) {
    iovec iov{buf, size};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * ControlServer::kMaxFds)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) return n;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        if (fds_.size() < ControlServer::kMaxFds) {
          fds_.push_back(fd);
        } else {
          ::close(fd);
        }
      }
    }
    // MSG_CTRUNC: the kernel closed what did not fit; nothing more to do.
    return n;
  }

  // Answers every complete line in in_. Returns false when the connection was closed.
  bool process_lines() {
    size_t start = 0;
    for (;;) {
      size_t nl = in_.find('\n', start);
      if (nl == std::string::npos) break;
      std::string_view line(in_.data() + start, nl - start);
      start = nl + 1;
      handle_line(line);
      if (closed_) return false;
    }
    in_.erase(0, start);
    if (in_.size() > kMaxLine) {
      queue(error_reply("GenericError", "request line longer than " + std::to_string(kMaxLine) +
                                            " bytes; closing"));
      close_now();
      return false;
    }
    return true;
  }

  void handle_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    if (!refused_.empty()) {
      queue(error_reply("GenericError", "permission denied: " + refused_));
      close_now();
      return;
    }
    Json request;
    try {
      request = Json::parse(line);
    } catch (const Json::parse_error& e) {
      queue(error_reply("GenericError", std::string("JSON parse error: ") + e.what()));
      for (int fd : fds_) ::close(fd);  // they came with a request that will not run
      fds_.clear();
      return;
    }
    queue(server_.commands_.dispatch(request, fds_));
  }

  void queue(const Json& reply) {
    // replace: a path with invalid UTF-8 must not turn a reply into an exception.
    out_ += reply.dump(-1, ' ', false, Json::error_handler_t::replace);
    out_ += '\n';
    if (out_.size() > kMaxPendingOut) {
      log(LogLevel::kWarn, "control client does not read its replies; disconnecting it");
      close();
    }
  }

  void flush() {
    while (!closed_ && !out_.empty()) {
      ssize_t n = ::send(fd_, out_.data(), out_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) {
        out_.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      close();  // the peer went away
      return;
    }
    if (closed_) return;
    if (peer_done_) {
      if (out_.empty()) {
        close();
      } else {
        reg_.set_events(ev::Events::kWrite);  // reading is over; EOF would stay readable
      }
      return;
    }
    reg_.set_events(out_.empty() ? ev::Events::kRead : ev::Events::kReadWrite);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    reg_.reset();
    ::close(fd_);
    fd_ = -1;
    server_.retire(this);
  }

  ControlServer& server_;
  int fd_;
  ev::FdRegistration reg_;
  std::string in_;
  std::string out_;
  FdList fds_;  // passed descriptors waiting for the next request
  bool closed_ = false;
  bool peer_done_ = false;  // the client sent EOF; close once out_ drains
  std::string refused_;     // not allowed to use the socket: why
};

ControlServer::ControlServer(ev::EventLoop& loop, ControlSocket& socket,
                             const CommandTable& commands)
    : loop_(loop),
      socket_(socket),
      commands_(commands),
      reaper_(loop, ev::Callback::bind<&ControlServer::reap>(this)) {}

ControlServer::~ControlServer() {
  stop();
}

void ControlServer::start() {
  reg_ = loop_.add_fd(socket_.fd(), ev::Events::kRead, this);
}

void ControlServer::stop() {
  reg_.reset();
  // close_now() retires each connection into dead_, so walk a moved-out list.
  auto live = std::move(conns_);
  conns_.clear();
  for (auto& c : live) c->close_now();
  dead_.clear();
}

void ControlServer::on_readable() {
  for (;;) {
    int fd = ::accept4(socket_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        log(LogLevel::kWarn, std::string("control socket accept: ") + std::strerror(errno));
      }
      return;
    }
    if (conns_.size() >= kMaxConnections) {
      static const char kBusy[] =
          "{\"error\":{\"class\":\"GenericError\",\"desc\":\"too many control connections\"}}\n";
      ssize_t n = ::send(fd, kBusy, sizeof kBusy - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
      (void)n;
      ::close(fd);
      continue;
    }
    std::string why = refusal(fd);
    if (!why.empty()) {
      uint64_t suppressed = 0;  // any local user can connect in a loop
      if (refusal_log_.allow(&suppressed)) {
        log(LogLevel::kWarn, "control socket: refused a client: " + why + " (" +
                                 std::to_string(suppressed) + " similar lines suppressed)");
      }
    }
    conns_.push_back(std::make_unique<Connection>(*this, fd));
    if (!why.empty()) conns_.back()->refuse(std::move(why));
    conns_.back()->start();
    log(LogLevel::kDebug, "control client connected");
  }
}

std::string ControlServer::refusal(int fd) const {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return std::string("cannot read the client's credentials: ") + std::strerror(errno);
  }
  if (cred.uid == 0 || cred.uid == access_.owner) return {};
  if (access_.group) {
    if (cred.gid == *access_.group) return {};
    gid_t groups[256];
    len = sizeof groups;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) {
      for (size_t i = 0; i < len / sizeof(gid_t); ++i) {
        if (groups[i] == *access_.group) return {};
      }
    }
  }
  std::string who = "uid " + std::to_string(cred.uid) + " may not use this control socket (only root, uid " +
                    std::to_string(access_.owner);
  if (access_.group) who += " and members of group " + access_.group_name;
  return who + ")";
}

void ControlServer::retire(Connection* c) {
  auto it = std::find_if(conns_.begin(), conns_.end(),
                         [c](const std::unique_ptr<Connection>& p) { return p.get() == c; });
  if (it == conns_.end()) return;  // stop() already moved it out; it is freed there
  dead_.push_back(std::move(*it));
  conns_.erase(it);
  reaper_.schedule();
}

void ControlServer::reap() {
  dead_.clear();
}

}  // namespace uvs::daemon
