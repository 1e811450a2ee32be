// SPDX-License-Identifier: MIT
// TapPort: a kernel tap device (/dev/net/tun, IFF_TAP) as a uvs::port::Port on one event loop.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "eventloop/event_loop.h"
#include "eventloop/fd_handler.h"
#include "netback/host/frame_batch.h"
#include "netback/common/net_hdr.h"
#include "netback/common/netback_log.h"
#include "netback/common/netback_status.h"
#include "port/port.h"

namespace uvs::netback {

/// Options of one tap port (config: `tap,id=,ifname=[,vnet-hdr=on|off][,offload=on|off][,mtu=N]`).
struct TapPortOptions {
  std::string name = "tap0";  ///< for logs and stats
  /// Kernel interface: attached to if it exists, else created. Empty (or a "%d" template):
  /// the kernel picks a free name (tapN); ifname() tells which.
  std::string ifname;
  /// Open with IFF_VNET_HDR and a 12-byte virtio-net header (TUNSETVNETHDRSZ) in front of every
  /// frame. Needed for any offload; without it every frame is plain both ways.
  bool vnet_hdr = false;
  /// With vnet_hdr: enable checksum and segmentation offloads (TUNSETOFFLOAD with CSUM, TSO4,
  /// TSO6, TSO_ECN, and USO4+USO6 where the kernel has them). The kernel then hands us partial
  /// checksums and GSO frames of up to 64 KiB and takes the same from us. Off: TUNSETOFFLOAD 0,
  /// plain frames only.
  bool offload = false;
  uint32_t mtu = 0;  ///< set the interface MTU at start (68..65535); 0 leaves it alone
};

/// Counters of a tap port. "in" is tap → our sink; "out" is send_burst → tap.
struct TapPortStats {
  uint64_t in_frames = 0;           ///< frames read from the tap and handed to the sink
  uint64_t in_bytes = 0;            ///< their Ethernet bytes (virtio-net header excluded)
  uint64_t in_drop_no_sink = 0;     ///< frames read while no sink was set
  uint64_t in_drop_too_short = 0;   ///< reads shorter than an Ethernet header
  uint64_t in_csum = 0;             ///< frames with a partial checksum (NEEDS_CSUM)
  uint64_t in_data_valid = 0;       ///< frames the kernel marked DATA_VALID
  uint64_t in_tso4 = 0;             ///< TCP/IPv4 GSO frames read
  uint64_t in_tso6 = 0;             ///< TCP/IPv6 GSO frames read
  uint64_t in_uso = 0;              ///< UDP GSO frames read
  uint64_t in_ecn = 0;              ///< GSO frames read with the ECN bit
  /// Frames dropped for a virtio-net header that does not match the frame, indexed by BadHdr
  /// (0 unused); checked by the same code as a vhost-user guest's headers.
  uint64_t in_drop_bad_hdr[kBadHdrReasons] = {};
  uint64_t out_frames = 0;          ///< frames written to the tap
  uint64_t out_bytes = 0;           ///< their Ethernet bytes
  uint64_t out_drop_full = 0;       ///< refused: the tap's queue was full (EAGAIN)
  uint64_t out_drop_link_down = 0;  ///< refused: the interface is administratively down (EIO)
  uint64_t out_drop_not_ready = 0;  ///< refused: not started, or the device went away
  uint64_t out_drop_bad_frame = 0;  ///< taken and dropped: length outside kMinFrameLen..kMaxFrameLen
  uint64_t out_errors = 0;          ///< taken and dropped: any other write error
  uint64_t out_csum = 0;            ///< frames written with NEEDS_CSUM
  uint64_t out_data_valid = 0;      ///< frames written with DATA_VALID
  uint64_t out_tso4 = 0;            ///< TCP/IPv4 GSO frames written
  uint64_t out_tso6 = 0;
  uint64_t out_uso = 0;
  uint64_t out_ecn = 0;
  /// Taken and dropped: the frame needs an offload the kernel did not accept (the switch's
  /// fallback prevents this unless the caps changed under a frame in flight).
  uint64_t out_drop_offload = 0;
  bool attached = false;            ///< the fd is attached to a live device
  bool created = false;             ///< we created the device (it goes away when we close it)

  /// Sum of in_drop_bad_hdr.
  uint64_t in_drop_bad_hdr_total() const noexcept {
    uint64_t t = 0;
    for (uint64_t v : in_drop_bad_hdr) t += v;
    return t;
  }
};

/// What the kernel says about the interface (SIOCGIFFLAGS in the caller's network namespace).
enum class TapLink {
  kUnknown,    ///< not attached, or the interface is not visible here (moved to another netns)
  kAdminDown,  ///< IFF_UP clear: writes fail with EIO, nothing is read
  kNoCarrier,  ///< up but IFF_RUNNING clear
  kUp,         ///< up and running (a tap has carrier while a file is attached)
};

/// A tap device. Every method runs on the loop thread given at construction (or before that loop
/// first runs); destroy the port before the loop.
class TapPort final : public port::Port {
 public:
  TapPort(ev::EventLoop& loop, TapPortOptions options);
  ~TapPort() override;
  TapPort(const TapPort&) = delete;
  TapPort& operator=(const TapPort&) = delete;

  /// Opens /dev/net/tun and attaches to (or creates) `ifname` as a non-blocking IFF_TAP |
  /// IFF_NO_PI device, applies vnet_hdr, offload and mtu, and starts reading. Offloads the
  /// kernel refuses (USO before Linux 6.2) are left out, not an error. The device is created in
  /// the calling thread's network namespace. Returns kInvalidOption for a bad name or MTU,
  /// kSocket (with errno) when the kernel refuses (no permission, the name is a tun or another
  /// kind of interface, no /dev/net/tun), or when already started.
  Status start();

  /// Writes each frame with one writev (frames stay scattered; with vnet_hdr a virtio-net header
  /// describing the frame's offload goes first, so GSO frames are written whole). Stops at the first EAGAIN (tap queue full) or EIO (interface down) and
  /// returns how many were taken; frames with a bad length or another write error are taken and
  /// dropped. Returns 0 when not attached. Never blocks, never allocates.
  size_t send_burst(std::span<const port::Frame> frames) noexcept override;
  void set_sink(port::FrameSink* sink) noexcept override { sink_ = sink; }
  std::string_view name() const noexcept override { return opts_.name; }
  /// kUp while attached to a live device; kDown before start() and after the device went away
  /// (deleted: EBADFD). Whether the interface is up is link(), not this.
  port::PortState state() const noexcept override;
  /// OffloadCap bits from the TUNSETOFFLOAD flags the kernel accepted; 0 without offloads.
  uint32_t offload_caps() const noexcept override { return caps_; }

  /// Asks the kernel for the interface flags. Control path (one socket + ioctl); loop thread.
  TapLink link() const noexcept;
  /// Snapshot of the counters. Loop thread only.
  TapPortStats stats() const noexcept;
  /// The kernel's name for the device (may differ from options when it had a %d template).
  const std::string& ifname() const noexcept { return ifname_; }
  /// Virtio-net header bytes in front of each frame on the fd: 0, or 12 with vnet_hdr.
  uint32_t vnet_hdr_len() const noexcept { return hdr_len_; }
  /// The TUN_F_* flags the kernel accepted with TUNSETOFFLOAD (0 without offloads).
  unsigned tun_offloads() const noexcept { return tun_flags_; }

 private:
  class Handler;

  void on_readable() noexcept;
  /// The device is gone (EBADFD / EIO on read): stop watching, mark down, log once.
  void detach(int err) noexcept;
  /// Validates the virtio-net header in front of a frame read into `buf` (`len` bytes with the
  /// header) and fills `*ol`. Returns false (counted by reason) when the frame must be dropped.
  bool accept_vnet_hdr(const uint8_t* buf, size_t len, port::Offload* ol) noexcept;
  /// Asks for `want` TUN_F_* flags, dropping what the kernel refuses; sets tun_flags_ / caps_.
  bool negotiate_offloads(int fd) noexcept;
  /// Counts the offload of a frame written to the tap.
  void count_out(const port::Offload& ol) noexcept;

  ev::EventLoop& loop_;
  TapPortOptions opts_;
  std::string ifname_;
  port::FrameSink* sink_ = nullptr;
  int fd_ = -1;
  bool attached_ = false;
  bool started_ = false;
  uint32_t hdr_len_ = 0;
  unsigned tun_flags_ = 0;       // accepted TUNSETOFFLOAD flags
  uint32_t caps_ = 0;            // port::OffloadCap bits for them
  NetOffloadFeatures rx_feat_;   // what the kernel may send us, for parse_tx_hdr
  LogRateLimit bad_hdr_log_;
  std::unique_ptr<Handler> handler_;
  ev::FdRegistration reg_;
  std::unique_ptr<FrameBatch> rx_;
  // TX scratch: header + frame segments for one writev, and a bounce buffer for frames with
  // more segments than that.
  static constexpr uint32_t kTxMaxIov = 64;
  iovec tx_iov_[kTxMaxIov + 1];
  uint8_t tx_hdr_[sizeof(virtio::VirtioNetHdrV1)] = {};
  std::unique_ptr<uint8_t[]> bounce_;
  TapPortStats stats_;
};

}  // namespace uvs::netback
