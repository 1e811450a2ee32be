// SPDX-License-Identifier: MIT
// VxlanPort: Ethernet in VXLAN in UDP (RFC 7348) to a fixed list of remote VTEPs, with
// per-MAC learning of the VTEP, flooding to every remote, and recvmmsg / sendmmsg bursts.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eventloop/event_loop.h"
#include "eventloop/fd_handler.h"
#include "netback/host/frame_batch.h"
#include "netback/common/netback_log.h"
#include "netback/common/netback_status.h"
#include "netback/common/socket_address.h"
#include "netback/common/socket_endpoint.h"
#include "netback/host/vtep_table.h"
#include "netback/host/vxlan_wire.h"
#include "port/port.h"

namespace uvs::netback {

/// Options of one VXLAN port (config: `vxlan,id=,vni=,local=IP[:PORT],remote=IP...`).
struct VxlanPortOptions {
  std::string name = "vxlan0";  ///< for logs and stats
  uint32_t vni = 0;             ///< 0..0xffffff
  std::string local;            ///< "IP" (port: dstport) or "IP:PORT" / "[IPV6]:PORT" to bind
  std::vector<std::string> remotes;  ///< VTEP addresses ("192.0.2.2", "2001:db8::2")
  uint16_t dstport = vxlan::kDefaultPort;
  uint32_t mtu = 0;             ///< inner L3 MTU; 0: 1450 over IPv4, 1430 over IPv6
};

/// Counters of one remote VTEP. "in" is VTEP → our sink; "out" is send_burst → VTEP.
struct VtepStats {
  uint64_t in_frames = 0;         ///< frames of this segment received from it
  uint64_t in_bytes = 0;          ///< their inner bytes
  uint64_t out_frames = 0;        ///< frames the kernel accepted for it
  uint64_t out_bytes = 0;         ///< their inner bytes
  uint64_t out_flooded = 0;       ///< of out_frames: copies of a flooded (BUM) frame
  uint64_t out_drop_full = 0;     ///< socket buffer full (EAGAIN / ENOBUFS)
  uint64_t out_drop_too_big = 0;  ///< EMSGSIZE: over the path MTU (never fragmented)
  uint64_t out_drop_error = 0;    ///< unreachable or another send error
};

/// Port-wide counters of a VXLAN port.
struct VxlanPortStats {
  uint64_t in_frames = 0;          ///< frames handed to the sink (all VTEPs)
  uint64_t in_bytes = 0;           ///< their bytes
  uint64_t in_drop_no_sink = 0;    ///< received while no sink was set
  uint64_t in_drop_foreign = 0;    ///< datagrams from an address that is not a remote
  uint64_t in_drop_too_short = 0;  ///< shorter than the VXLAN and Ethernet headers
  uint64_t in_drop_too_big = 0;    ///< longer than a receive slot (truncated)
  uint64_t in_drop_no_vni = 0;     ///< I flag clear
  uint64_t in_drop_wrong_vni = 0;  ///< another VNI
  uint64_t in_errors = 0;          ///< recvmmsg failures other than EAGAIN
  uint64_t out_frames = 0;         ///< frames encapsulated (sent to one VTEP or to all)
  uint64_t out_unicast = 0;        ///< of those: sent to the one VTEP their MAC was learned on
  uint64_t out_flooded = 0;        ///< of those: broadcast, multicast or unknown, sent to all
  uint64_t out_drop_mtu = 0;       ///< inner frame over mtu (never fragmented)
  uint64_t out_drop_bad_frame = 0; ///< bad length or too many segments
};

/// A VTEP (RFC 7348 section 4) of one VXLAN segment. Binds `local` for receiving; sends from
/// kSrcPorts sockets bound to ports in 49152-65535, chosen per inner flow by
/// vxlan::flow_hash(). Accepts datagrams only from the configured remotes (any source port, as
/// VTEPs pick theirs per flow). Every method runs on the loop thread given at construction (or
/// before that loop first runs); destroy the port before the loop.
class VxlanPort final : public port::Port {
 public:
  static constexpr size_t kMaxVteps = 16;    ///< remotes of one port
  static constexpr size_t kSrcPorts = 16;    ///< source ports (flow-hash buckets)
  static constexpr uint32_t kMaxSegs = 64;   ///< segments one frame may have on send

  VxlanPort(ev::EventLoop& loop, VxlanPortOptions options);
  ~VxlanPort() override;
  VxlanPort(const VxlanPort&) = delete;
  VxlanPort& operator=(const VxlanPort&) = delete;

  /// Parses the addresses, creates and binds the sockets and starts receiving. Returns
  /// kInvalidOption naming the option (vni, local, remote, mtu), or kSocket with errno when
  /// `local` cannot be bound.
  Status start();

  /// Encapsulates each frame and sends it to the VTEP its destination MAC was learned behind,
  /// or to every remote for broadcast, multicast and unknown unicast, with one sendmmsg per
  /// source port in use. Frames over the MTU are dropped and counted. Takes every frame (a
  /// copy a VTEP refuses is counted on that VTEP). Returns 0 before start(). Never blocks,
  /// never allocates; loop thread only.
  size_t send_burst(std::span<const port::Frame> frames) noexcept override;
  void set_sink(port::FrameSink* sink) noexcept override { sink_ = sink; }
  std::string_view name() const noexcept override { return opts_.name; }
  /// kUp once the sockets are bound; kDown before.
  port::PortState state() const noexcept override;

  /// Port-wide counters. Loop thread only.
  const VxlanPortStats& stats() const noexcept { return stats_; }
  /// The remotes in configuration order, as text ("192.0.2.2"). Control path.
  const std::vector<std::string>& remote_names() const noexcept { return remote_names_; }
  /// Counters of remote `i` (< remote_names().size()). Loop thread only.
  const VtepStats& vtep_stats(size_t i) const noexcept { return vteps_[i].stats; }
  /// MAC entries learned and not expired. Loop thread only (walks the table).
  size_t learned_macs() const noexcept;
  /// The bound receive address ("192.0.2.1:4789"). Control path.
  std::string local_address() const;
  /// The inner L3 MTU in force. Any time after start().
  uint32_t mtu() const noexcept { return mtu_; }
  /// The source ports in use, for tests and logs. Control path.
  std::vector<uint16_t> source_ports() const;

  /// The VTEP index of a datagram's sender, or -1 when it is not a remote. Data path.
  int vtep_of(const sockaddr_storage& from, socklen_t len) const noexcept;

 private:
  class Handler;
  void on_readable() noexcept;
  Status open_sockets();
  void send_messages(size_t count) noexcept;

  struct Vtep {
    SocketAddress addr;  // remote IP, port dstport
    VtepStats stats;
  };

  ev::EventLoop& loop_;
  VxlanPortOptions opts_;
  SocketAddress local_;
  std::array<Vtep, kMaxVteps> vteps_{};
  size_t n_vteps_ = 0;
  std::vector<std::string> remote_names_;
  uint32_t mtu_ = 0;
  uint8_t header_[vxlan::kHeaderLen] = {};
  port::FrameSink* sink_ = nullptr;
  int rx_fd_ = -1;
  std::array<int, kSrcPorts> tx_fd_;
  bool started_ = false;
  std::unique_ptr<Handler> handler_;
  ev::FdRegistration reg_;
  std::unique_ptr<FrameBatch> rx_;
  std::unique_ptr<VtepTable> table_;

  // Scratch for one burst each way, allocated at start().
  static constexpr size_t kMaxMsgs = port::kMaxBurst * kMaxVteps;
  struct Scratch {
    mmsghdr rx_msgs[FrameBatch::kSlots];
    sockaddr_storage rx_from[FrameBatch::kSlots];
    uint8_t rx_vtep[FrameBatch::kSlots];
    iovec tx_iov[port::kMaxBurst * (kMaxSegs + 1)];
    mmsghdr tx_msgs[kMaxMsgs];     // grouped by source socket
    uint8_t tx_vtep[kMaxMsgs];     // destination VTEP of each message
    uint8_t tx_flood[kMaxMsgs];    // 1: a copy of a flooded frame
    uint8_t tx_sock[kMaxMsgs];     // source socket of each message
  };
  std::unique_ptr<Scratch> scratch_;
  LogRateLimit send_log_;
  LogRateLimit foreign_log_;
  LogRateLimit vni_log_;
  VxlanPortStats stats_;
};

}  // namespace uvs::netback
