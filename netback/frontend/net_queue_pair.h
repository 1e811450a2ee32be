// SPDX-License-Identifier: MIT
// NetQueuePair: one virtio-net RX/TX virtqueue pair as a guest driver runs it — buffers, kicks, calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "netback/frontend/driver_virtqueue.h"
#include "netback/frontend/frontend_error.h"
#include "netback/frontend/guest_ram.h"
#include "netback/common/virtio_defs.h"

namespace uvs::frontend {

/// How a transmitted frame is laid out in descriptors (each a case the backend must handle).
enum class TxLayout {
  kSingle,          ///< one descriptor: virtio-net header + frame (what DPDK virtio-user does)
  kHeaderSeparate,  ///< header descriptor, then frame descriptor (what older Linux does)
  kScatter,         ///< header split over two descriptors, frame over up to three
  kIndirect,        ///< the kScatter chain inside an INDIRECT table (needs RING_INDIRECT_DESC)
};

/// How receive buffers are posted.
enum class RxLayout {
  kSingle,          ///< one writable descriptor per buffer
  kHeaderSeparate,  ///< header-sized descriptor, then the rest
  kIndirect,        ///< the two-descriptor chain inside an INDIRECT table
};

/// Buffer geometry and negotiated ring behaviour of one queue pair.
struct QueuePairConfig {
  uint32_t queue_size = 256;
  uint32_t rx_buf_len = 2048;  ///< bytes per RX buffer, virtio-net header included
  uint32_t tx_buf_len = 2048;  ///< bytes per TX slot, header included: the largest frame + hdr
  TxLayout tx_layout = TxLayout::kSingle;
  RxLayout rx_layout = RxLayout::kSingle;
  bool event_idx = false;      ///< VIRTIO_F_RING_EVENT_IDX negotiated
  bool mergeable = false;      ///< VIRTIO_NET_F_MRG_RXBUF negotiated
  bool packed = false;         ///< VIRTIO_F_RING_PACKED negotiated: both rings packed
  uint32_t hdr_len = netback::virtio::kNetHdrLen;  ///< 12 (VERSION_1 or MRG_RXBUF) or 10
  /// Put every other buffer in the next guest memory region, so translation crosses regions.
  bool spread_regions = true;
};

/// One frame handed out by receive(). The caller owns `data` (set data/capacity before the call).
/// With data == nullptr the frame is only counted (len, hdr, num_buffers filled), never copied:
/// the cheapest sink for a benchmark.
struct RxFrame {
  uint8_t* data = nullptr;
  uint32_t capacity = 0;
  uint32_t len = 0;            ///< the frame's full length (may exceed capacity: see truncated)
  uint16_t num_buffers = 0;    ///< RX buffers the device used for it (1 without MRG_RXBUF)
  bool truncated = false;      ///< len > capacity; only capacity bytes were copied
  netback::virtio::VirtioNetHdrV1 hdr{};
};

/// Counters of one queue pair (or the sum over pairs).
struct QueuePairStats {
  uint64_t tx_frames = 0;     ///< frames put on the TX ring
  uint64_t tx_bytes = 0;
  uint64_t tx_completed = 0;  ///< TX chains the device returned
  uint64_t tx_kicks = 0;      ///< eventfd writes on the TX kick fd
  uint64_t tx_ring_full = 0;  ///< send() calls that stopped early for lack of slots/descriptors
  uint64_t tx_too_big = 0;    ///< send() calls that stopped at a frame larger than a TX slot
  uint64_t rx_frames = 0;
  uint64_t rx_bytes = 0;
  uint64_t rx_kicks = 0;      ///< eventfd writes on the RX kick fd (after reposting buffers)
  uint64_t rx_calls = 0;      ///< call-eventfd wake-ups consumed while waiting
  uint64_t rx_truncated = 0;
  uint64_t rx_bad = 0;        ///< used entries with an impossible length or num_buffers
  uint64_t bad_used = 0;      ///< used entries naming a head not in flight (RX + TX)

  QueuePairStats& operator+=(const QueuePairStats& o) noexcept;
};

/// The driver side of a virtio-net queue pair (virtio 1.x §5.1.6): a RX ring kept full of
/// buffers and a TX ring fed from caller frames, each with kick and call eventfds. All buffers
/// and indirect tables are allocated from GuestRam in init(); after that nothing allocates and
/// no call makes a syscall except the kicks the device asked for and the waits for calls.
/// Single-threaded.
class NetQueuePair {
 public:
  NetQueuePair() = default;
  ~NetQueuePair();
  NetQueuePair(const NetQueuePair&) = delete;
  NetQueuePair& operator=(const NetQueuePair&) = delete;

  /// Allocates rings, buffers and eventfds. kMemory when guest RAM is too small,
  /// kInvalidArgument for impossible geometry (e.g. a TX slot smaller than the header).
  Status init(GuestRam& ram, const QueuePairConfig& config);

  /// Resets both rings to index 0 (in the packed or split layout), posts and publishes every RX
  /// buffer (kicking the RX eventfd, which stays pending until the backend watches it). Call
  /// before each new session; the arguments are the newly negotiated values.
  void restart(bool event_idx, bool mergeable, uint32_t hdr_len, bool packed = false) noexcept;

  /// Keeps both rings as they are for a new backend session that resumes them where the last
  /// one stopped (as QEMU does when a backend reconnects): only stale notifications are
  /// dropped, and the RX ring is kicked so the backend sees the buffers still posted.
  void resume() noexcept;

  /// Copies frames onto the TX ring (header first: hdrs[i], or zeroed past hdrs' end), publishes
  /// once and kicks once if the device asked for it. Frees completed TX slots first. Returns how
  /// many frames were taken, in order; stops at the first that does not fit (ring full, or
  /// larger than a TX slot).
  size_t send(std::span<const std::span<const uint8_t>> frames,
              std::span<const netback::virtio::VirtioNetHdrV1> hdrs = {}) noexcept;

  /// Copies up to out.size() received frames into the caller's buffers, reposts the RX buffers
  /// they used (one publish, at most one kick). With timeout_ms > 0 and nothing pending, sleeps
  /// on the call eventfd (interrupts enabled only while sleeping). Returns frames written.
  size_t receive(std::span<RxFrame> out, int timeout_ms) noexcept;

  /// Waits until the device has returned every TX chain. Returns false on timeout.
  bool flush_tx(int timeout_ms) noexcept;

  /// Frees completed TX slots without sending. Returns how many completed.
  size_t reap_tx() noexcept;

  /// The receive ring (vring 2p).
  DriverVirtqueue& rx() noexcept { return rx_; }
  /// The transmit ring (vring 2p+1).
  DriverVirtqueue& tx() noexcept { return tx_; }
  /// Eventfds handed to the backend: we write kicks, it writes calls.
  int rx_kick_fd() const noexcept { return rx_kick_; }
  /// See rx_kick_fd().
  int rx_call_fd() const noexcept { return rx_call_; }
  /// See rx_kick_fd().
  int tx_kick_fd() const noexcept { return tx_kick_; }
  /// See rx_kick_fd().
  int tx_call_fd() const noexcept { return tx_call_; }
  /// Geometry and the ring rules of the current session.
  const QueuePairConfig& config() const noexcept { return cfg_; }
  /// Counters since init() (bad_used: since the last restart()).
  QueuePairStats stats() const noexcept;

  /// Writes the kick eventfd of the RX (false) or TX (true) ring unconditionally.
  void kick(bool tx) noexcept;

  /// Guest-physical address of TX slot `i` (i < queue_size) and of its indirect table: guest
  /// memory the fault injector may scribble on.
  uint64_t tx_slot_gpa(uint32_t i) const noexcept { return tx_slot_gpa_[i]; }
  uint64_t tx_table_gpa(uint32_t i) const noexcept { return tx_table_gpa_[i]; }

  /// Largest number of descriptors one TX frame uses (kScatter: 5).
  static constexpr uint32_t kMaxTxSegments = 5;

 private:
  bool post_rx(uint32_t slot) noexcept;
  size_t drain_rx(std::span<RxFrame> out) noexcept;
  uint32_t build_tx_segments(uint64_t gpa, uint32_t frame_len, DescSegment* segs) const noexcept;

  GuestRam* ram_ = nullptr;
  QueuePairConfig cfg_;
  DriverVirtqueue rx_;
  DriverVirtqueue tx_;
  int rx_kick_ = -1, rx_call_ = -1, tx_kick_ = -1, tx_call_ = -1;

  std::vector<uint64_t> rx_slot_gpa_;
  std::vector<uint8_t*> rx_slot_host_;
  std::vector<uint64_t> rx_table_gpa_;
  std::vector<uint64_t> tx_slot_gpa_;
  std::vector<uint8_t*> tx_slot_host_;
  std::vector<uint64_t> tx_table_gpa_;
  std::vector<uint32_t> tx_free_slots_;  // stack
  uint32_t tx_free_top_ = 0;
  QueuePairStats stats_;
};

}  // namespace uvs::frontend
