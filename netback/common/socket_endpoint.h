// SPDX-License-Identifier: MIT
// SocketEndpoint: how a socket port reaches its peer (bind and listen, accepting one peer at a
// time; connect and reconnect with backoff; or an inherited fd), and the bind / connect calls
// every socket port starts with.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "eventloop/event_loop.h"
#include "eventloop/fd_handler.h"
#include "eventloop/timer.h"
#include "netback/common/netback_status.h"
#include "netback/common/socket_address.h"
#include "netback/common/unix_socket.h"

namespace uvs::netback {

/// Creates a non-blocking, close-on-exec socket of `type` (SOCK_STREAM / SOCK_DGRAM) for
/// `local`'s family and binds it there. A unix path that already exists is taken over only when
/// it is a stale socket (nobody answers a connect on it); a live one, or anything that is not a
/// socket, fails with kPathInUse. IP stream sockets get SO_REUSEADDR so a restarted server can
/// bind at once. With `listen_backlog` > 0 the socket also listens. Control path.
SocketResult bind_socket(const SocketAddress& local, int type, int listen_backlog);

/// Starts a non-blocking connect of a new `type` socket to `remote`. Returns the fd with
/// `*in_progress` set when the connect completes later (TCP: wait for writability, then read
/// SO_ERROR), or -errno (ECONNREFUSED, ENOENT while the peer is not up; EAGAIN when a unix
/// listener's backlog is full). Never blocks.
int start_connect(const SocketAddress& remote, int type, bool* in_progress) noexcept;

/// Accepts one connection on `listen_fd` (non-blocking, close-on-exec), storing the peer's
/// address in `*peer` when it is not null. Returns the fd or -errno (EAGAIN: none waiting).
int accept_peer(int listen_fd, SocketAddress* peer) noexcept;

/// Reconnect delays: the first retry waits `min_ns`, each further one twice the last, at most
/// `max_ns`. A successful connection starts over at `min_ns`.
class ReconnectBackoff {
 public:
  ReconnectBackoff(int64_t min_ns, int64_t max_ns) noexcept
      : min_ns_(min_ns), max_ns_(max_ns), next_ns_(min_ns) {}
  /// Whether the delays make sense: 0 < min <= max.
  bool valid() const noexcept { return min_ns_ > 0 && max_ns_ >= min_ns_; }
  /// The delay to wait now; doubles the following one (capped, without overflow).
  int64_t next() noexcept {
    const int64_t d = next_ns_;
    next_ns_ = next_ns_ > max_ns_ / 2 ? max_ns_ : next_ns_ * 2;
    return d;
  }
  /// Starts over at the first delay.
  void reset() noexcept { next_ns_ = min_ns_; }

 private:
  int64_t min_ns_;
  int64_t max_ns_;
  int64_t next_ns_;
};

/// How an endpoint reaches its peer.
enum class EndpointRole {
  kListen,          ///< bind and listen at `address`; one peer at a time, the next after it leaves
  kConnect,         ///< connect to `address`; reconnect with backoff when refused or lost
  kAdoptConnected,  ///< `fd` is a connected stream socket handed to us; no reconnect
  kAdoptListening,  ///< `fd` is a listening socket handed to us; served like kListen
};

/// What an endpoint needs to know. Stream sockets only: datagram ports just bind_socket().
struct EndpointOptions {
  std::string name;                 ///< port name: prefixes error messages and log lines
  const char* peer_kind = "peer";   ///< what the peer is, for log lines ("stream peer")
  EndpointRole role = EndpointRole::kListen;
  SocketAddress address;            ///< kListen: where to listen; kConnect: the peer
  int fd = -1;                      ///< kAdopt*: the socket; the endpoint owns it from start()
  SocketAccess access;              ///< kListen on a unix path: mode and group of the socket
  int64_t reconnect_min_ns = 100'000'000;      ///< kConnect: first retry delay
  int64_t reconnect_max_ns = 2'000'000'000;    ///< kConnect: the delay doubles up to this
  int64_t connect_timeout_ns = 5'000'000'000;  ///< kConnect: a pending TCP connect is retried
};

/// Told when a peer is connected.
class EndpointListener {
 public:
  /// `fd` (non-blocking, close-on-exec) is connected to the peer and now belongs to the
  /// listener, which closes it and then calls SocketEndpoint::connection_ended(). `peer` is the
  /// accepted peer's address (empty or unnamed for most unix peers) or the address connected
  /// to. Loop thread; may run inside SocketEndpoint::start().
  virtual void endpoint_connected(int fd, const SocketAddress& peer) noexcept = 0;

 protected:
  ~EndpointListener() = default;
};

/// One socket port's way to its peer. Loop thread only; destroy before the loop. At most one
/// connection is handed out at a time.
class SocketEndpoint {
 public:
  SocketEndpoint(ev::EventLoop& loop, EndpointListener* listener);
  /// Closes the listening socket (removing a unix path it bound) and any pending connect.
  ~SocketEndpoint();
  SocketEndpoint(const SocketEndpoint&) = delete;
  SocketEndpoint& operator=(const SocketEndpoint&) = delete;

  /// Listens, starts connecting, or takes the inherited fd. A peer that is not up yet is not
  /// an error for kConnect: the endpoint keeps retrying. Returns kInvalidOption (bad delays, an
  /// inherited fd of the wrong kind), kPathInUse or kSocket with errno; each message starts
  /// with the port name. With kAdoptConnected the listener is told before this returns.
  Status start(EndpointOptions options);

  /// The connection handed out has ended and its fd is closed: accept the next peer, or
  /// reconnect after the backoff delay. Nothing happens for kAdoptConnected. Safe from inside
  /// the connection's own callbacks.
  void connection_ended() noexcept;

  /// Where a listener listens ("127.0.0.1:40123" with the kernel's port for port 0, or the
  /// unix path); the peer's address otherwise. Control path.
  std::string local_address() const;
  /// TCP connects abandoned after connect_timeout_ns.
  uint64_t connect_timeouts() const noexcept { return connect_timeouts_; }
  EndpointRole role() const noexcept { return opts_.role; }

 private:
  class ListenHandler;
  class ConnectHandler;

  Status start_listening();
  Status adopt();
  void watch_listener() noexcept;
  void on_listen_readable() noexcept;
  void try_connect() noexcept;
  void finish_connect() noexcept;
  void on_timer() noexcept;
  void retry_later(const char* why) noexcept;

  ev::EventLoop& loop_;
  EndpointListener* listener_;
  EndpointOptions opts_;
  ReconnectBackoff backoff_{1, 1};
  int listen_fd_ = -1;
  bool unlink_path_ = false;    // we bound listen_fd_ at a unix path
  int connecting_fd_ = -1;      // kConnect: a TCP connect in progress
  bool connected_ = false;      // a connection is handed out
  bool logged_failure_ = false;
  uint64_t connect_timeouts_ = 0;
  std::unique_ptr<ListenHandler> listen_handler_;
  std::unique_ptr<ConnectHandler> connect_handler_;
  ev::FdRegistration listen_reg_;
  ev::FdRegistration connect_reg_;
  ev::Timer timer_;  // reconnect delay, or the connect timeout while connecting_fd_ is set
};

}  // namespace uvs::netback
