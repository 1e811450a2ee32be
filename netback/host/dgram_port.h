// SPDX-License-Identifier: MIT
// DgramPort: QEMU `-netdev dgram` (one frame per UDP or unix datagram, no header) as a
// uvs::port::Port, with recvmmsg / sendmmsg bursts.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "eventloop/event_loop.h"
#include "eventloop/fd_handler.h"
#include "netback/host/frame_batch.h"
#include "netback/common/netback_log.h"
#include "netback/common/netback_status.h"
#include "netback/common/socket_address.h"
#include "netback/common/socket_endpoint.h"
#include "port/port.h"

namespace uvs::netback {

/// Options of one datagram port (config: `dgram,id=,local=IP:PORT,remote=IP:PORT`). Either the
/// UDP pair (`local`, `remote`) or the unix pair (`local_path`, `remote_path`); `remote` /
/// `remote_path` is required. Only datagrams whose sender is `remote` (address and port) or
/// `remote_path` are accepted; the rest are dropped and counted (in_drop_foreign), so that
/// nobody else who can reach the socket can put frames on the segment. (QEMU's dgram accepts
/// any sender.)
struct DgramPortOptions {
  std::string name = "dgram0";  ///< for logs and stats
  std::string local;            ///< UDP "IPV4:PORT" / "[IPV6]:PORT" to bind; port 0 or empty:
                                ///< the kernel picks a port
  std::string remote;           ///< UDP address every frame is sent to
  std::string local_path;       ///< unix datagram socket to bind (a stale socket is replaced);
                                ///< empty: unbound (send only)
  std::string remote_path;      ///< unix datagram socket every frame is sent to
};

/// Counters of a datagram port. "in" is peer → our sink; "out" is send_burst → peer.
struct DgramPortStats {
  uint64_t in_frames = 0;          ///< datagrams received and handed to the sink
  uint64_t in_bytes = 0;           ///< their bytes
  uint64_t in_drop_no_sink = 0;    ///< received while no sink was set
  uint64_t in_drop_too_short = 0;  ///< datagrams shorter than an Ethernet header
  uint64_t in_drop_too_big = 0;    ///< datagrams longer than port::kMaxFrameLen (truncated)
  uint64_t in_drop_foreign = 0;    ///< datagrams from a sender other than the remote
  uint64_t in_errors = 0;          ///< recvmmsg failures other than EAGAIN
  uint64_t out_frames = 0;         ///< datagrams the kernel accepted
  uint64_t out_bytes = 0;          ///< their bytes
  uint64_t out_drop_full = 0;      ///< refused: socket buffer full (EAGAIN / ENOBUFS)
  uint64_t out_drop_too_big = 0;   ///< taken and dropped: too big for a datagram (EMSGSIZE;
                                   ///< over IPv4 UDP carries at most 65507 bytes)
  uint64_t out_drop_bad_frame = 0; ///< taken and dropped: bad length or too many segments
  uint64_t out_drop_error = 0;     ///< refused: the peer is unreachable or another error
};

/// One end of a QEMU-compatible `-netdev dgram` link. Every method runs on the loop thread given
/// at construction (or before that loop first runs); destroy the port before the loop.
class DgramPort final : public port::Port {
 public:
  /// Segments one frame may have on send; frames with more are dropped (bad frame).
  static constexpr uint32_t kMaxSegs = 64;

  DgramPort(ev::EventLoop& loop, DgramPortOptions options);
  ~DgramPort() override;
  DgramPort(const DgramPort&) = delete;
  DgramPort& operator=(const DgramPort&) = delete;

  /// Parses the addresses, creates and binds the socket and starts receiving. Returns
  /// kInvalidOption naming the option (missing remote, UDP and unix mixed, bad address), or
  /// kSocket / kPathInUse with errno when the socket cannot be bound.
  Status start();

  /// Sends each frame as one datagram to the remote with sendmmsg (one call for the burst in
  /// the common case). Stops at EAGAIN / ENOBUFS or an unreachable peer and returns how many
  /// were taken; frames too big for a datagram or with a bad length are taken and dropped.
  /// Returns 0 before start(). Never blocks, never allocates; loop thread only.
  size_t send_burst(std::span<const port::Frame> frames) noexcept override;
  void set_sink(port::FrameSink* sink) noexcept override { sink_ = sink; }
  std::string_view name() const noexcept override { return opts_.name; }
  /// kUp once the socket is bound (a datagram link has no connection to lose); kDown before.
  port::PortState state() const noexcept override;

  /// Snapshot of the counters. Loop thread only.
  DgramPortStats stats() const noexcept { return stats_; }
  /// The bound address ("127.0.0.1:40123" with the kernel's port, or the unix path); "" when
  /// unbound. Control path.
  std::string local_address() const;

 private:
  class Handler;
  void on_readable() noexcept;

  ev::EventLoop& loop_;
  DgramPortOptions opts_;
  SocketAddress local_;
  SocketAddress remote_;
  std::string remote_text_;  // for log lines, formatted once
  port::FrameSink* sink_ = nullptr;
  int fd_ = -1;
  bool started_ = false;
  bool unlink_local_ = false;
  std::unique_ptr<Handler> handler_;
  ev::FdRegistration reg_;
  std::unique_ptr<FrameBatch> rx_;

  // Scratch for one burst each way, allocated at start().
  struct Scratch {
    mmsghdr rx_msgs[FrameBatch::kSlots];
    sockaddr_storage rx_from[FrameBatch::kSlots];  // each datagram's sender
    mmsghdr tx_msgs[port::kMaxBurst];
    uint32_t tx_index[port::kMaxBurst];  // input frame of each tx message
    iovec tx_iov[port::kMaxBurst * kMaxSegs];
  };
  std::unique_ptr<Scratch> scratch_;
  LogRateLimit send_log_;
  LogRateLimit foreign_log_;
  DgramPortStats stats_;
};

}  // namespace uvs::netback
