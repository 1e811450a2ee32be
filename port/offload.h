// SPDX-License-Identifier: MIT
// Offload: what a frame's virtio-net header promises, and OffloadCap, what a port's peer accepts.
#pragma once

#include <cstdint>

namespace uvs::port {

/// The meaning of a virtio-net header (virtio 1.2 5.1.6) in compact form. All zero is a plain,
/// complete frame with valid checksums, no larger than its port's MTU.
struct Offload {
  /// VIRTIO_NET_HDR_F_NEEDS_CSUM: the checksum at csum_start + csum_offset holds only the
  /// pseudo-header sum; the rest from csum_start to the end still has to be added.
  static constexpr uint8_t kNeedsCsum = 1;
  /// VIRTIO_NET_HDR_F_DATA_VALID: the sender already verified the checksums.
  static constexpr uint8_t kDataValid = 2;
  /// VIRTIO_NET_HDR_GSO_*: the frame is larger than the MTU and is cut into gso_size payloads.
  enum class Gso : uint8_t { kNone, kTcpV4, kTcpV6, kUdpL4 };

  uint8_t flags = 0;
  Gso gso = Gso::kNone;
  bool ecn = false;  ///< VIRTIO_NET_HDR_GSO_ECN: the TCP stream set CWR, keep it on the first only
  uint8_t pad = 0;
  uint16_t gso_size = 0;     ///< payload bytes per segment
  uint16_t hdr_len = 0;      ///< Ethernet + IP + L4 header bytes (a hint; the switch recomputes it)
  uint16_t csum_start = 0;   ///< from the frame's first byte (destination MAC)
  uint16_t csum_offset = 0;  ///< from csum_start

  bool plain() const noexcept { return flags == 0 && gso == Gso::kNone; }
  bool needs_csum() const noexcept { return (flags & kNeedsCsum) != 0; }
};
static_assert(sizeof(Offload) == 12);

/// Bits of Port::offload_caps(): which offloaded frames the port's peer accepts as they are.
/// A frame needing something the destination lacks is segmented / checksummed by the switch.
namespace OffloadCap {
inline constexpr uint32_t kCsum = 1;     ///< partial checksums (kNeedsCsum)
inline constexpr uint32_t kTso4 = 2;     ///< Gso::kTcpV4
inline constexpr uint32_t kTso6 = 4;     ///< Gso::kTcpV6
inline constexpr uint32_t kTsoEcn = 8;   ///< GSO frames with ecn set
inline constexpr uint32_t kUso = 16;     ///< Gso::kUdpL4
}  // namespace OffloadCap

}  // namespace uvs::port
