// SPDX-License-Identifier: MIT
// virtio 1.x facts: feature bits, split-ring layouts, event-index math, virtio-net header/config.
//
// Sources: virtio 1.x spec §2.7 (split virtqueues), §6 (reserved feature bits), §5.1 (network
// device). Header-only and dependency-free; shared by the backend and the in-repo frontend.
// Everything is little-endian (VERSION_1 devices are always LE; we only run on LE hosts).
#pragma once

#include <cstdint>

namespace uvs::netback::virtio {

/// Feature bit numbers; use as `1ull << bit` (see feature_bit()).
namespace feature {
// virtio-net device features (§5.1.3).
inline constexpr uint32_t kNetCsum = 0;
inline constexpr uint32_t kNetGuestCsum = 1;
inline constexpr uint32_t kNetCtrlGuestOffloads = 2;
inline constexpr uint32_t kNetMtu = 3;
inline constexpr uint32_t kNetMac = 5;
inline constexpr uint32_t kNetGuestTso4 = 7;
inline constexpr uint32_t kNetGuestTso6 = 8;
inline constexpr uint32_t kNetGuestEcn = 9;
inline constexpr uint32_t kNetGuestUfo = 10;
inline constexpr uint32_t kNetHostTso4 = 11;
inline constexpr uint32_t kNetHostTso6 = 12;
inline constexpr uint32_t kNetHostEcn = 13;
inline constexpr uint32_t kNetHostUfo = 14;
inline constexpr uint32_t kNetMrgRxbuf = 15;
inline constexpr uint32_t kNetStatus = 16;
inline constexpr uint32_t kNetCtrlVq = 17;
inline constexpr uint32_t kNetCtrlRx = 18;
inline constexpr uint32_t kNetCtrlVlan = 19;
inline constexpr uint32_t kNetGuestAnnounce = 21;
inline constexpr uint32_t kNetMq = 22;
inline constexpr uint32_t kNetCtrlMacAddr = 23;
// Not in QEMU 7.2's vhost-user feature set nor in DPDK 22.11's virtio PMD (virtio 1.2 §5.1.3).
inline constexpr uint32_t kNetGuestUso4 = 54;
inline constexpr uint32_t kNetGuestUso6 = 55;
inline constexpr uint32_t kNetHostUso = 56;
inline constexpr uint32_t kNetSpeedDuplex = 63;
// Transport / ring features (§6).
inline constexpr uint32_t kNotifyOnEmpty = 24;
inline constexpr uint32_t kLogAll = 26;  ///< vhost: VHOST_F_LOG_ALL (dirty logging for migration)
inline constexpr uint32_t kAnyLayout = 27;
inline constexpr uint32_t kRingIndirectDesc = 28;
inline constexpr uint32_t kRingEventIdx = 29;
/// vhost-user: VHOST_USER_F_PROTOCOL_FEATURES (GET_PROTOCOL_FEATURES is available).
inline constexpr uint32_t kVhostUserProtocolFeatures = 30;
inline constexpr uint32_t kVersion1 = 32;
inline constexpr uint32_t kAccessPlatform = 33;
inline constexpr uint32_t kRingPacked = 34;
inline constexpr uint32_t kInOrder = 35;
}  // namespace feature

/// `1ull << bit`.
constexpr uint64_t feature_bit(uint32_t bit) noexcept { return uint64_t{1} << bit; }

// ---- Split virtqueue (§2.7) ----

/// Descriptor flags (§2.7.5).
inline constexpr uint16_t kDescFNext = 1;      ///< buffer continues via `next`
inline constexpr uint16_t kDescFWrite = 2;     ///< device-writable (otherwise device-readable)
inline constexpr uint16_t kDescFIndirect = 4;  ///< buffer holds a table of descriptors

/// One descriptor-table entry (16 bytes).
struct VringDesc {
  uint64_t addr;  ///< guest-physical
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(VringDesc) == 16);

/// Driver → device ring header; followed by `ring[size]` then `used_event` (if EVENT_IDX).
struct VringAvail {
  uint16_t flags;  ///< kAvailFNoInterrupt
  uint16_t idx;
  uint16_t ring[];  // NOLINT: flexible array, as the spec lays it out
};
/// Driver asks the device not to interrupt (ignored when EVENT_IDX is negotiated; §2.7.7).
inline constexpr uint16_t kAvailFNoInterrupt = 1;

/// One used-ring element: head descriptor id and bytes written into the chain.
struct VringUsedElem {
  uint32_t id;
  uint32_t len;
};
static_assert(sizeof(VringUsedElem) == 8);

/// Device → driver ring header; followed by `ring[size]` then `avail_event` (if EVENT_IDX).
struct VringUsed {
  uint16_t flags;  ///< kUsedFNoNotify
  uint16_t idx;
  VringUsedElem ring[];  // NOLINT: flexible array
};
/// Device asks the driver not to kick (ignored when EVENT_IDX is negotiated; §2.7.10).
inline constexpr uint16_t kUsedFNoNotify = 1;

/// Largest split queue size (§2.7: "Queue Size ... maximum 32768"), always a power of 2.
inline constexpr uint32_t kMaxQueueSize = 32768;

/// Bytes of each split-ring part for a queue of `size` entries (with the event-idx trailer).
constexpr uint64_t desc_table_bytes(uint32_t size) noexcept { return uint64_t{16} * size; }
constexpr uint64_t avail_ring_bytes(uint32_t size) noexcept { return 4 + uint64_t{2} * size + 2; }
constexpr uint64_t used_ring_bytes(uint32_t size) noexcept { return 4 + uint64_t{8} * size + 2; }

/// §2.7.10 / §2.7.7 event-index rule: after moving the index from `old_idx` to `new_idx`, notify
/// iff the other side's `event_idx` lies in [old_idx, new_idx) modulo 2^16.
constexpr bool vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx) noexcept {
  return static_cast<uint16_t>(new_idx - event_idx - 1) <
         static_cast<uint16_t>(new_idx - old_idx);
}

// ---- Packed virtqueue (virtio 1.1 §2.7) ----

/// Descriptor flags beyond NEXT/WRITE/INDIRECT ("Driver and Device Ring Wrap Counters"): a descriptor is available when AVAIL
/// equals the driver's wrap counter and USED does not; used when both equal the device's.
inline constexpr uint16_t kPackedDescFAvail = 1 << 7;
inline constexpr uint16_t kPackedDescFUsed = 1 << 15;

/// One descriptor-ring entry of a packed ring (16 bytes, "The Virtqueue Descriptor Format").
struct PackedDesc {
  uint64_t addr;  ///< guest-physical
  uint32_t len;
  uint16_t id;    ///< buffer id (in the last descriptor of a chain)
  uint16_t flags;
};
static_assert(sizeof(PackedDesc) == 16);

/// Driver / device event suppression structure ("Event Suppression Structure Format"): `off_wrap` is a ring offset (bits
/// 0-14) and wrap counter (bit 15), used with kPackedEventDesc.
struct PackedEvent {
  uint16_t off_wrap;
  uint16_t flags;
};
static_assert(sizeof(PackedEvent) == 4);
inline constexpr uint16_t kPackedEventEnable = 0;
inline constexpr uint16_t kPackedEventDisable = 1;
inline constexpr uint16_t kPackedEventDesc = 2;  ///< only with VIRTIO_F_RING_EVENT_IDX

/// Largest packed queue size (§2.7: up to 2^15 entries, not necessarily a power of 2).
inline constexpr uint32_t kMaxPackedQueueSize = 32768;

/// Bytes of a packed descriptor ring of `size` entries.
constexpr uint64_t packed_desc_ring_bytes(uint32_t size) noexcept { return uint64_t{16} * size; }

// ---- virtio-net (§5.1) ----

/// Virtqueue numbering: pair p has receiveq 2p and transmitq 2p+1 (§5.1.2).
constexpr uint32_t rx_queue_index(uint32_t pair) noexcept { return 2 * pair; }
constexpr uint32_t tx_queue_index(uint32_t pair) noexcept { return 2 * pair + 1; }
constexpr bool is_tx_queue(uint32_t index) noexcept { return (index & 1) != 0; }

/// Per-packet header with VERSION_1 (or MRG_RXBUF): always 12 bytes (§5.1.6).
struct VirtioNetHdrV1 {
  uint8_t flags;      ///< kNetHdrF*
  uint8_t gso_type;   ///< kNetHdrGso*
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
  uint16_t num_buffers;  ///< RX with MRG_RXBUF: descriptor chains this packet spans
};
static_assert(sizeof(VirtioNetHdrV1) == 12);
inline constexpr uint32_t kNetHdrLen = sizeof(VirtioNetHdrV1);
inline constexpr uint8_t kNetHdrFNeedsCsum = 1;
inline constexpr uint8_t kNetHdrFDataValid = 2;
inline constexpr uint8_t kNetHdrFRscInfo = 4;
inline constexpr uint8_t kNetHdrGsoNone = 0;
inline constexpr uint8_t kNetHdrGsoTcpV4 = 1;
inline constexpr uint8_t kNetHdrGsoUdp = 3;  ///< UFO: never offered
inline constexpr uint8_t kNetHdrGsoTcpV6 = 4;
inline constexpr uint8_t kNetHdrGsoUdpL4 = 5;
inline constexpr uint8_t kNetHdrGsoEcn = 0x80;  ///< flag on a TCP gso_type: the stream uses ECN

/// Device configuration layout (§5.1.4); fields past `mtu` exist only with later features.
struct VirtioNetConfig {
  uint8_t mac[6];
  uint16_t status;               ///< kNetSLinkUp | kNetSAnnounce (with STATUS)
  uint16_t max_virtqueue_pairs;  ///< with MQ
  uint16_t mtu;                  ///< with MTU
  uint32_t speed;                ///< with SPEED_DUPLEX
  uint8_t duplex;
  uint8_t rss_max_key_size;
  uint16_t rss_max_indirection_table_length;
  uint32_t supported_hash_types;
};
static_assert(sizeof(VirtioNetConfig) == 24);
inline constexpr uint16_t kNetSLinkUp = 1;
inline constexpr uint16_t kNetSAnnounce = 2;

/// Device status bits (§2.1), as carried by vhost-user SET_STATUS.
inline constexpr uint8_t kStatusAcknowledge = 1;
inline constexpr uint8_t kStatusDriver = 2;
inline constexpr uint8_t kStatusDriverOk = 4;
inline constexpr uint8_t kStatusFeaturesOk = 8;
inline constexpr uint8_t kStatusNeedsReset = 64;
inline constexpr uint8_t kStatusFailed = 128;

}  // namespace uvs::netback::virtio
