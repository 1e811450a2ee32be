// SPDX-License-Identifier: MIT
// FrontendChannel: the frontend's AF_UNIX vhost-user socket — connect or listen, framed send/recv.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "netback/frontend/frontend_error.h"
#include "netback/vhost/vhost_user_proto.h"

namespace uvs::frontend {

/// The control socket to one backend. As a client it connects to the backend's socket path; as a
/// server (the backend in client mode, QEMU's `server=on`) it listens and accepts one connection.
/// Sends never split fds from the first byte of a message (SCM_RIGHTS rides on the header, as
/// QEMU does). Blocking sends, receives bounded by a timeout. One owner thread.
class FrontendChannel {
 public:
  FrontendChannel() = default;
  ~FrontendChannel();
  FrontendChannel(const FrontendChannel&) = delete;
  FrontendChannel& operator=(const FrontendChannel&) = delete;

  /// Connects to `path`, retrying while it does not exist or refuses for up to `timeout_ms`
  /// (the backend may still be starting). kSocket / kTimeout on failure.
  Status connect(const std::string& path, int timeout_ms);
  /// Creates a listening socket at `path` (a stale socket file is replaced). kSocket on failure.
  Status listen(const std::string& path);
  /// Accepts one backend connection on the listening socket within `timeout_ms`.
  Status accept(int timeout_ms);

  /// Closes the connection (the listener stays). Idempotent.
  void close() noexcept;
  /// Closes the listener and removes its socket file. Idempotent.
  void close_listener() noexcept;
  /// Whether a connection is open (the peer may have closed it without us noticing yet).
  bool connected() const noexcept { return fd_ >= 0; }
  /// The connected socket, or -1.
  int fd() const noexcept { return fd_; }

  /// Sends `hdr` then `payload` as one message, with `fds` attached (SCM_RIGHTS) to the first
  /// byte. `hdr.size` is sent as given, so it may lie about the payload on purpose.
  /// kSendFailed (errno) or kNotConnected.
  Status send(const netback::vu::VhostUserHeader& hdr, std::span<const uint8_t> payload,
              std::span<const int> fds);
  /// Sends arbitrary bytes (e.g. half a header) with optional fds. For fault injection.
  Status send_bytes(std::span<const uint8_t> bytes, std::span<const int> fds);

  /// Receives one message: the header, then up to payload.size() bytes of payload (*payload_len
  /// gets the announced size). A reply larger than `payload` is kBadReply (the rest is not read,
  /// so the channel is then unusable). Any fds that arrive are closed. kTimeout, kPeerClosed.
  Status recv(netback::vu::VhostUserHeader* hdr, std::span<uint8_t> payload,
              uint32_t* payload_len, int timeout_ms);

  /// Waits up to `timeout_ms` for the backend to close the connection, discarding anything it
  /// sends meanwhile. Returns true on EOF/ECONNRESET (the connection is then closed locally).
  bool wait_peer_closed(int timeout_ms);

 private:
  Status read_exact(uint8_t* dst, size_t len, int64_t deadline_ns);

  int fd_ = -1;
  int listen_fd_ = -1;
  std::string listen_path_;
};

}  // namespace uvs::frontend
