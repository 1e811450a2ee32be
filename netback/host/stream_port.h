// SPDX-License-Identifier: MIT
// StreamPort: QEMU `-netdev stream` framing (4-byte big-endian length, then the frame) over a
// unix or TCP stream socket, as server or reconnecting client, as a uvs::port::Port.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "eventloop/event_loop.h"
#include "eventloop/fd_handler.h"
#include "netback/common/netback_log.h"
#include "netback/common/netback_status.h"
#include "netback/common/socket_endpoint.h"
#include "port/port.h"

namespace uvs::netback {

/// Which end of the stream socket the port is.
enum class StreamRole {
  kServer,  ///< listen; serve one peer at a time, accept the next after it leaves
  kClient,  ///< connect; reconnect with backoff whenever the connection is lost or refused
};

/// Options of one stream port (config: `stream,id=,path=|addr=[,server=on|off]`).
struct StreamPortOptions {
  std::string name = "stream0";  ///< for logs and stats
  std::string path;              ///< unix socket path; exactly one of `path` and `addr`
  std::string addr;              ///< TCP "IPV4:PORT" or "[IPV6]:PORT" (server: port 0 = any)
  StreamRole role = StreamRole::kServer;
  int64_t reconnect_min_ns = 100'000'000;    ///< client: first retry delay
  int64_t reconnect_max_ns = 2'000'000'000;  ///< client: the delay doubles up to this
  int64_t connect_timeout_ns = 5'000'000'000;  ///< client: a TCP connect pending this long is retried
  SocketAccess access;  ///< unix server: mode and group of the listening socket
};

/// Counters of a stream port. "in" is peer → our sink; "out" is send_burst → peer.
struct StreamPortStats {
  uint64_t in_frames = 0;            ///< frames received and handed to the sink
  uint64_t in_bytes = 0;             ///< their bytes (length prefix excluded)
  uint64_t in_drop_no_sink = 0;      ///< frames received while no sink was set
  uint64_t in_drop_too_short = 0;    ///< frames of 1..13 bytes (not Ethernet; stream kept)
  uint64_t out_frames = 0;           ///< frames taken by send_burst (sent or queued in pending)
  uint64_t out_bytes = 0;            ///< their bytes (length prefix excluded)
  uint64_t out_drop_not_connected = 0;  ///< refused: no peer (or still connecting)
  uint64_t out_drop_busy = 0;        ///< refused: socket full and the pending buffer too
  uint64_t out_drop_bad_frame = 0;   ///< taken and dropped: length outside 14..kMaxFrameLen
  uint64_t out_partial_writes = 0;   ///< sends that left bytes for the pending buffer
  uint64_t connections = 0;          ///< peers that connected
  uint64_t disconnects = 0;          ///< connections that ended (any reason)
  uint64_t protocol_errors = 0;      ///< connections dropped for a bad length prefix
  uint64_t connect_timeouts = 0;     ///< client: TCP connects abandoned after connect_timeout_ns
  uint64_t pending_bytes = 0;        ///< bytes queued for the peer right now
  bool connected = false;
};

/// One end of a QEMU-compatible `-netdev stream` link. Every method runs on the loop thread
/// given at construction (or before that loop first runs); destroy the port before the loop.
class StreamPort final : public port::Port, private EndpointListener {
 public:
  /// Bytes of the receive buffer: frames are reassembled in place and lent to the sink from it.
  static constexpr size_t kRxBufferSize = 256 * 1024;
  /// Bytes send_burst may queue when the socket is full (at least one largest frame + prefix).
  static constexpr size_t kPendingSize = 256 * 1024;

  StreamPort(ev::EventLoop& loop, StreamPortOptions options);
  ~StreamPort() override;
  StreamPort(const StreamPort&) = delete;
  StreamPort& operator=(const StreamPort&) = delete;

  /// Validates the options, then listens (server; a stale unix socket file is replaced, any
  /// other file at `path` is kPathInUse) or starts connecting (client: a peer that is not up
  /// yet is not an error, the port keeps retrying). Returns kInvalidOption naming the option,
  /// or kSocket with errno when the socket cannot be created or bound.
  Status start();

  /// Queues each frame as [4-byte big-endian length][frame] with one sendmsg for the burst.
  /// When the socket takes only part, the rest of the burst is copied into the pending buffer
  /// while it fits and sent on writability; while anything is pending no new frame is taken.
  /// Returns how many frames were taken (frames with a bad length are taken and dropped).
  /// Returns 0 when no peer is connected. Never blocks, never allocates; loop thread only.
  size_t send_burst(std::span<const port::Frame> frames) noexcept override;
  void set_sink(port::FrameSink* sink) noexcept override { sink_ = sink; }
  std::string_view name() const noexcept override { return opts_.name; }
  /// kUp while a peer is connected; kBroken after a peer sent a bad length prefix, until the
  /// next peer connects; kDown otherwise.
  port::PortState state() const noexcept override;

  /// Snapshot of the counters. Loop thread only.
  StreamPortStats stats() const noexcept;
  bool connected() const noexcept { return conn_fd_ >= 0; }
  /// Where a server listens ("127.0.0.1:40123" with the kernel's port for addr port 0, or the
  /// unix path); the peer address for a client. Control path.
  std::string local_address() const;

 private:
  class ConnHandler;
  enum class Drop { kPeerClosed, kIoError, kProtocol };

  // EndpointListener
  void endpoint_connected(int fd, const SocketAddress& peer) noexcept override;

  void on_conn_readable() noexcept;
  void on_conn_writable() noexcept;
  /// Ends the connection (closing the socket now) and goes back to accepting / reconnecting.
  void drop_connection(Drop why, const char* detail) noexcept;
  /// Parses complete frames out of the receive buffer and delivers them in bursts. Returns false
  /// when the connection was dropped meanwhile (bad length, or by the sink's doing).
  bool deliver_frames() noexcept;
  /// Copies [prefix][frame] (from byte `skip` of that) into the pending buffer.
  void append_pending(const port::Frame& f, size_t skip) noexcept;
  /// Sends pending bytes until done or EAGAIN. Returns false when the connection was dropped.
  bool flush_pending() noexcept;
  void watch_writable(bool on) noexcept;

  ev::EventLoop& loop_;
  StreamPortOptions opts_;
  SocketAddress addr_;
  port::FrameSink* sink_ = nullptr;

  int conn_fd_ = -1;
  bool watching_write_ = false;  // conn_reg_ includes kWrite (pending bytes wait for room)
  bool broken_ = false;      // the last peer sent garbage; cleared by the next connection
  bool started_ = false;
  uint64_t conn_gen_ = 0;    // bumped on every connect and drop: detects drops during a callback

  std::unique_ptr<ConnHandler> conn_handler_;
  ev::FdRegistration conn_reg_;
  SocketEndpoint endpoint_;

  // RX: bytes [rx_off_, rx_len_) of rx_buf_ are received but not yet consumed.
  std::unique_ptr<uint8_t[]> rx_buf_;
  size_t rx_off_ = 0;
  size_t rx_len_ = 0;
  iovec rx_iov_[port::kMaxBurst];
  port::Frame rx_frames_[port::kMaxBurst];

  // TX: bytes [pending_off_, pending_len_) of pending_ still go to the peer before any new frame.
  std::unique_ptr<uint8_t[]> pending_;
  size_t pending_off_ = 0;
  size_t pending_len_ = 0;
  static constexpr size_t kTxMaxIov = 256;
  iovec tx_iov_[kTxMaxIov];
  uint8_t tx_prefix_[port::kMaxBurst][4];
  uint32_t tx_frame_bytes_[port::kMaxBurst];  // prefix + frame bytes of each frame in the batch
  uint32_t tx_frame_index_[port::kMaxBurst];  // which input frame each batch entry is

  StreamPortStats stats_;
  LogRateLimit fail_log_;
};

}  // namespace uvs::netback
