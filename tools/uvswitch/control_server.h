// SPDX-License-Identifier: MIT
// ControlServer: serves the control socket on the control loop: one JSON request per line each way.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eventloop/bottom_half.h"
#include "eventloop/event_loop.h"
#include "eventloop/fd_handler.h"
#include "eventloop/log.h"
#include "tools/uvswitch/command_table.h"
#include "tools/uvswitch/control_socket.h"

namespace uvs::daemon {

/// Accepts clients on a ControlSocket and answers their requests with a CommandTable.
///
/// Protocol (QMP-like, no greeting): the client sends one JSON object per line,
/// {"execute": "<command>", "arguments": {...}, "id": <any>} ("arguments" and "id" optional),
/// and gets one line back per request, in order: {"return": <value>} or
/// {"error": {"class": "<GenericError|CommandNotFound>", "desc": "<text>"}}, with "id" echoed.
/// A line that is not JSON gets a GenericError reply; a line over kMaxLine bytes closes the
/// connection after an error reply. Several clients may be connected at once. A client may pass
/// descriptors (SCM_RIGHTS) with a request; commands registered with add_with_fds get them.
///
/// Everything here runs on the control loop's thread. Must be destroyed before that loop.
class ControlServer final : public ev::FdHandler {
 public:
  static constexpr size_t kMaxLine = 64 * 1024;      ///< request size limit
  static constexpr size_t kMaxPendingOut = 4 << 20;  ///< unread replies before we hang up
  static constexpr size_t kMaxConnections = 64;
  static constexpr size_t kMaxFds = 4;  ///< descriptors a client may pass with one request

  ControlServer(ev::EventLoop& loop, ControlSocket& socket, const CommandTable& commands);
  ~ControlServer() override;
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  /// Who may use the socket, checked with SO_PEERCRED on every connection: root, `owner`
  /// (the daemon's uid), and members of `group` (primary or supplementary, SO_PEERGROUPS) when
  /// set. Anyone else gets one error reply ("permission denied: ...") and is disconnected.
  struct Access {
    uid_t owner = 0;
    std::optional<gid_t> group;
    std::string group_name;  ///< for the refusal message
  };
  /// Sets the access rule (default: root and the daemon's euid). Before start().
  void set_access(Access access) { access_ = std::move(access); }

  /// Starts accepting. Control loop thread.
  void start();
  /// Stops accepting (the listening socket stays open until its owner closes it).
  void stop_listening() { reg_.reset(); }
  /// Stops accepting and closes every client, flushing what can be sent without blocking.
  void stop();
  /// Connected clients right now.
  size_t connections() const { return conns_.size(); }

 private:
  class Connection;

  void on_readable() override;  // the listening socket: accept everything pending
  /// Empty when the peer on `fd` may use the socket, else why not.
  std::string refusal(int fd) const;
  void retire(Connection* c);   // called by a connection that closed; freed by the reaper
  void reap();

  ev::EventLoop& loop_;
  ControlSocket& socket_;
  const CommandTable& commands_;
  ev::FdRegistration reg_;
  Access access_{::geteuid(), std::nullopt, {}};
  ev::LogRateLimit refusal_log_;
  std::vector<std::unique_ptr<Connection>> conns_;
  std::vector<std::unique_ptr<Connection>> dead_;
  ev::BottomHalf reaper_;
};

}  // namespace uvs::daemon
