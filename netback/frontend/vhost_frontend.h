// SPDX-License-Identifier: MIT
// VhostFrontend: a QEMU-like vhost-user-net frontend — negotiation, guest memory, queue pairs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "netback/frontend/fault.h"
#include "netback/frontend/frontend_channel.h"
#include "netback/frontend/frontend_error.h"
#include "netback/frontend/guest_ram.h"
#include "netback/frontend/net_queue_pair.h"
#include "netback/vhost/vhost_user_proto.h"
#include "netback/common/virtio_defs.h"

namespace uvs::frontend {

/// How guest memory is announced to the backend.
enum class MemoryMode {
  kSetMemTable,  ///< one SET_MEM_TABLE with every region (what QEMU does by default)
  kAddMemReg,    ///< GET_MAX_MEM_SLOTS then one ADD_MEM_REG per region (CONFIGURE_MEM_SLOTS)
};

/// Virtio features a QEMU virtio-net-pci driver typically accepts from a vhost-user backend.
inline constexpr uint64_t kDefaultDriverFeatures = [] {
  namespace f = netback::virtio::feature;
  uint64_t v = 0;
  for (uint32_t bit : {f::kVersion1, f::kNetMrgRxbuf, f::kRingEventIdx, f::kRingIndirectDesc,
                       f::kVhostUserProtocolFeatures, f::kNetMq, f::kNetMac, f::kNetStatus,
                       f::kNotifyOnEmpty, f::kAnyLayout}) {
    v |= netback::virtio::feature_bit(bit);
  }
  return v;
}();

/// Protocol features the frontend is willing to use.
inline constexpr uint64_t kDefaultProtocolFeatures = [] {
  using netback::vu::ProtocolFeature;
  uint64_t v = 0;
  for (ProtocolFeature p : {ProtocolFeature::kMq, ProtocolFeature::kLogShmfd, ProtocolFeature::kReplyAck,
                            ProtocolFeature::kConfigureMemSlots, ProtocolFeature::kStatus,
                            ProtocolFeature::kConfig}) {
    v |= netback::vu::protocol_bit(p);
  }
  return v;
}();

/// Everything a VhostFrontend is configured with. Defaults give a QEMU-like single queue pair.
struct FrontendOptions {
  uint32_t queue_pairs = 1;
  uint32_t queue_size = 256;
  uint32_t rx_buf_len = 2048;  ///< per RX buffer, header included; small + MRG_RXBUF = merging
  uint32_t tx_buf_len = 2048;  ///< per TX slot, header included: bounds the largest frame
  TxLayout tx_layout = TxLayout::kSingle;
  RxLayout rx_layout = RxLayout::kSingle;
  /// Virtio features the driver accepts; negotiated = this & what the backend offers.
  uint64_t features = kDefaultDriverFeatures;
  /// Features whose absence makes connect() fail with kFeatures.
  uint64_t required_features = netback::virtio::feature_bit(netback::virtio::feature::kVersion1);
  uint64_t protocol_features = kDefaultProtocolFeatures;
  MemoryMode memory_mode = MemoryMode::kSetMemTable;
  /// A second memory region far from the first (at second_region_gpa, with a non-zero
  /// mmap_offset); packet buffers alternate between the regions.
  bool second_region = true;
  uint64_t second_region_gpa = uint64_t{1} << 32;
  /// With REPLY_ACK negotiated, ask for an ack on every request that has no reply of its own.
  bool ack_every_request = true;
  int connect_timeout_ms = 5000;
  int reply_timeout_ms = 5000;
  /// Start TX rings with VHOST_USER_VRING_NOFD_MASK and no kick fd: the backend must poll them.
  bool tx_kick_nofd = false;
};

/// Control-path counters (data-path counters are in QueuePairStats).
struct FrontendStats {
  QueuePairStats queues;       ///< summed over queue pairs
  uint64_t messages_sent = 0;  ///< vhost-user requests sent (raw/fault messages included)
  uint64_t replies = 0;        ///< replies and acks received
  uint64_t sessions = 0;       ///< successful start-ups (connect/accept)
};

/// Where a VhostFrontend is in its life.
enum class FrontendState {
  kIdle,      ///< never connected, or cleanly disconnected
  kRunning,   ///< start-up finished; frames can flow
  kPoisoned,  ///< a fault was injected; only disconnect() and inspection are meaningful
};

/// Plays the hypervisor side of vhost-user-net, like QEMU or DPDK's virtio-user: it owns memfd
/// guest memory, runs the guest driver's rings (split, or packed when `features` has
/// VIRTIO_F_RING_PACKED and the backend offers it) and speaks the start-up sequence of
/// vhost-user.rst ("Starting and stopping rings"). Made for tests and for the benchmark's packet
/// generator: after connect() the frame calls never allocate and make no syscall except the
/// kicks the backend asked for (EVENT_IDX / NO_NOTIFY) and the call-eventfd waits.
///
/// Everything runs on the caller's thread, synchronously; the backend must run on another thread
/// (or process), since requests wait for replies.
class VhostFrontend {
 public:
  explicit VhostFrontend(FrontendOptions options = {});
  ~VhostFrontend();
  VhostFrontend(const VhostFrontend&) = delete;
  VhostFrontend& operator=(const VhostFrontend&) = delete;

  /// Connects to the backend listening at `path` (retrying until connect_timeout_ms while the
  /// socket does not exist yet) and runs the start-up sequence. On any failure the connection is
  /// closed and the Status says which step failed.
  Status connect(const std::string& path);

  /// Server mode (the backend is the client): creates a listening socket at `path`.
  Status listen(const std::string& path);
  /// Server mode: waits up to `timeout_ms` for the backend to connect, then runs start-up.
  Status accept(int timeout_ms);

  /// Connects again after disconnect() and resumes every ring where the backend stopped it, as
  /// QEMU does when a backend restarts: the rings, buffers and indexes stay as they are, and
  /// SET_VRING_BASE carries `bases` (what disconnect() returned, one per vring). The features
  /// must negotiate as before (same ring layout); kInvalidArgument otherwise or on a wrong count.
  Status reconnect(const std::string& path, std::span<const uint16_t> bases);

  /// Orderly stop, as QEMU does on shutdown: GET_VRING_BASE on every ring (stopping it),
  /// SET_STATUS 0 if negotiated, then close. Returns the first failure but always closes.
  /// `bases` (optional) receives each vring's last avail index reported by the backend (for a
  /// packed ring the position with its wrap counter in bit 15: the reply's low 16 bits).
  Status disconnect(std::vector<uint16_t>* bases = nullptr);
  /// Closes the connection without a word, like a crashing hypervisor. A listening socket (server
  /// mode) stays open, so accept() can take the backend's reconnection. Idempotent.
  void close() noexcept;
  /// Server mode: closes the listening socket and removes its path. Idempotent.
  void stop_listening() noexcept { channel_.close_listener(); }

  // ---- data path (caller thread; noexcept; no allocation) ----

  /// Puts `frames` (Ethernet frames, no virtio-net header) on TX queue `pair`; one publish and at
  /// most one kick per call. Frame i goes behind `hdrs[i]` (as given, also when it makes no
  /// sense: offloads and malformed headers for tests) or an all-zero header past hdrs' end.
  /// Returns frames accepted (0 when not running or pair out of range).
  size_t send_frames(std::span<const std::span<const uint8_t>> frames, uint32_t pair = 0,
                     std::span<const netback::virtio::VirtioNetHdrV1> hdrs = {}) noexcept;
  /// Receives up to out.size() frames from RX queue `pair` into the caller's buffers (see
  /// RxFrame), waiting up to `timeout_ms` for the first. Returns frames written.
  size_t receive_frames(std::span<RxFrame> out, int timeout_ms, uint32_t pair = 0) noexcept;
  /// Waits until the backend has consumed every frame sent on `pair`. False on timeout.
  bool flush_tx(int timeout_ms, uint32_t pair = 0) noexcept;

  // ---- inspection ----

  /// Where the frontend is in its life. Caller thread, like everything here.
  FrontendState state() const noexcept { return state_; }
  /// state() == kRunning: frames can flow.
  bool running() const noexcept { return state_ == FrontendState::kRunning; }
  /// Virtio features agreed with the backend (valid once running).
  uint64_t features() const noexcept { return features_; }
  /// Whether feature number `bit` was agreed.
  bool has_feature(uint32_t bit) const noexcept { return (features_ >> bit) & 1; }
  /// Features the backend offered (GET_FEATURES).
  uint64_t backend_features() const noexcept { return backend_features_; }
  /// Protocol features agreed (SET_PROTOCOL_FEATURES) and the ones the backend offered.
  uint64_t protocol_features() const noexcept { return protocol_features_; }
  /// See protocol_features().
  uint64_t backend_protocol_features() const noexcept { return backend_protocol_features_; }
  /// GET_QUEUE_NUM's answer (0 when MQ was not negotiated).
  uint64_t backend_queue_num() const noexcept { return backend_queue_num_; }
  /// The virtio-net header length in use (12, or 10 for a legacy layout without MRG_RXBUF).
  uint32_t net_hdr_len() const noexcept { return hdr_len_; }
  /// Counters since construction (data-path ones summed over queue pairs).
  FrontendStats stats() const noexcept;
  /// The options given at construction.
  const FrontendOptions& options() const noexcept { return opts_; }

  /// Waits up to `timeout_ms` for the backend to drop the connection (what a backend must do
  /// after a fatal fault). True if it did.
  bool wait_backend_closed(int timeout_ms);

  /// GET_CONFIG of the virtio-net config space (needs the CONFIG protocol feature).
  Result<netback::virtio::VirtioNetConfig> get_config();

  // ---- live migration (vhost-user.rst "Migration"), in QEMU's vhost_migration_log order ----

  /// Bytes of dirty log covering every guest page up to the highest region end (one bit per
  /// 4 KiB page).
  uint64_t dirty_log_size() const noexcept;
  /// Starts dirty logging: SET_LOG_BASE with `log_fd` (`size` bytes from `offset`; waits for the
  /// backend's reply), SET_FEATURES with VHOST_F_LOG_ALL added, then SET_VRING_ADDR with
  /// VHOST_VRING_F_LOG and log_guest_addr = the used ring's guest address, on every ring. Needs
  /// a running session with LOG_SHMFD negotiated.
  Status start_dirty_log(int log_fd, uint64_t size, uint64_t offset = 0);
  /// Stops it as a finished or cancelled migration does: SET_FEATURES without LOG_ALL, then
  /// SET_VRING_ADDR without the flag. The backend keeps forwarding.
  Status stop_dirty_log();

  // ---- raw access, for fault injection and protocol tests ----

  /// Runs one of the canned faults (see fault.h). kInvalidArgument if the fault needs a running
  /// session and there is none. Afterwards the frontend is kPoisoned (or closed).
  Status inject(Fault fault, uint32_t pair = 0);

  /// Sends a request without waiting for anything. `hdr.size` is sent as given.
  Status send_raw(const netback::vu::VhostUserHeader& hdr, std::span<const uint8_t> payload,
                  std::span<const int> fds = {});
  /// Sends a well-formed request (size = payload.size(), version 1 flag, NEED_REPLY when REPLY_ACK
  /// is negotiated and `want_ack`) and, if an ack was requested, waits for it.
  Status request(netback::vu::VhostUserRequest req, std::span<const uint8_t> payload,
                 std::span<const int> fds = {}, bool want_ack = true);
  /// Sends a request that has a reply (GET_*) and reads exactly reply.size() bytes of it.
  Status query(netback::vu::VhostUserRequest req, std::span<const uint8_t> payload,
               std::span<uint8_t> reply);

  /// The control socket.
  FrontendChannel& channel() noexcept { return channel_; }
  /// Guest memory (mapped on the first connect/listen).
  GuestRam& ram() noexcept { return ram_; }
  /// Queue pair `pair` (< queue_pair_count()): rings, eventfds, buffers.
  NetQueuePair& queue_pair(uint32_t pair) noexcept { return *pairs_[pair]; }
  /// Queue pairs set up (0 before the first connect/listen).
  uint32_t queue_pair_count() const noexcept { return static_cast<uint32_t>(pairs_.size()); }
  /// Marks the session unusable for frames (set by inject()).
  void poison() noexcept { state_ = FrontendState::kPoisoned; }

 private:
  Status prepare();
  Status start_session();
  Status negotiate();
  Status send_memory();
  Status start_vring(uint32_t index);
  Status set_vring_addr(uint32_t index, bool log);
  Status set_status(uint8_t status);
  bool acks() const noexcept;

  FrontendOptions opts_;
  FrontendChannel channel_;
  GuestRam ram_;
  std::vector<std::unique_ptr<NetQueuePair>> pairs_;
  FrontendState state_ = FrontendState::kIdle;
  uint64_t backend_features_ = 0;
  uint64_t features_ = 0;
  uint64_t backend_protocol_features_ = 0;
  uint64_t protocol_features_ = 0;
  uint64_t backend_queue_num_ = 0;
  uint32_t hdr_len_ = netback::virtio::kNetHdrLen;
  uint64_t messages_sent_ = 0;
  uint64_t replies_ = 0;
  uint64_t sessions_ = 0;
  std::span<const uint16_t> resume_bases_;  // non-empty while reconnect() runs start-up
};

}  // namespace uvs::frontend
