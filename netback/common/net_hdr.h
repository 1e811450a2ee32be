// SPDX-License-Identifier: MIT
// NetHdr: the virtio-net header of one packet to and from port::Offload — validation of a
// guest's TX header against its frame, and the RX header for what the guest accepted.
#pragma once

#include <cstdint>

#include "netback/common/virtio_defs.h"
#include "port/frame.h"
#include "port/offload.h"

namespace uvs::netback {

/// Why a guest's TX header was refused. Each reason has its own drop counter; the frame is
/// dropped, the port keeps working (a malformed header is one bad packet, not a broken peer).
enum class BadHdr : uint8_t {
  kNone = 0,
  kCsumNotNegotiated,  ///< NEEDS_CSUM without VIRTIO_NET_F_CSUM (§5.1.6.2.1: flags MUST be 0)
  kGsoNotNegotiated,   ///< a GSO type (or the ECN bit) whose HOST_* feature was not acked
  kGsoUnknown,         ///< a gso_type value the spec does not define
  kGsoWithoutCsum,     ///< GSO without NEEDS_CSUM (§5.1.6.2.1: the driver MUST set both)
  kGsoSize,            ///< gso_size 0, or larger than the payload after the headers
  kHdrLen,             ///< hdr_len beyond the end of the frame
  kCsumRange,          ///< the checksum field beyond the frame, or csum_start inside the
                       ///< Ethernet header (port::check_csum_offsets)
  kGsoMismatch,        ///< headers port::parse_gso_layout refuses for the GSO type: not the L3/L4
                       ///< it names, an IP fragment, IP lengths past the frame, or checksum
                       ///< fields not at the L4 checksum
};
inline constexpr uint32_t kBadHdrReasons = 9;  ///< BadHdr values, kNone included

/// Short name of a reason for stats keys and logs ("gso-size"); "none" for kNone.
const char* bad_hdr_name(BadHdr reason) noexcept;

/// Which offloads the negotiated features allow in each direction, derived once per session.
struct NetOffloadFeatures {
  // What the guest may send (its TX, our "in"): VIRTIO_NET_F_CSUM, HOST_TSO4/6, HOST_ECN.
  bool host_csum = false;
  bool host_tso4 = false;
  bool host_tso6 = false;
  bool host_ecn = false;
  bool host_uso = false;
  /// What the guest takes (our "out"): port::OffloadCap bits from GUEST_CSUM, GUEST_TSO4/6,
  /// GUEST_ECN and GUEST_USO4+6.
  uint32_t guest_caps = 0;

  /// From the acked virtio feature bits. A feature whose prerequisite is missing (§5.1.3.1:
  /// TSO needs the matching CSUM, ECN needs a TSO) counts as not negotiated.
  static NetOffloadFeatures from_acked(uint64_t acked) noexcept;
};

/// Validates the guest's TX header `h` against its frame `f` (no header; len >= 14) and fills
/// `*out` with what it means (all zero for a plain packet; hdr_len of a GSO frame is the parsed
/// Ethernet + IP + TCP/UDP header length, not the guest's hint). Returns kNone or the reason to
/// drop. Reads at most the first port::kMaxOffloadHdr bytes of the frame, never past f.len. Any thread;
/// noexcept, allocation-free. Flag bits other than NEEDS_CSUM are ignored (§5.1.6.2.2: the
/// device MUST ignore flags it does not recognize; DATA_VALID is meaningless on TX).
BadHdr parse_tx_hdr(const virtio::VirtioNetHdrV1& h, const port::Frame& f,
                    const NetOffloadFeatures& feat, port::Offload* out) noexcept;

/// Fills the RX header (num_buffers = 1) for a frame carrying `ol`, for a guest accepting
/// `guest_caps` (port::OffloadCap bits). Returns false, leaving `*h` unspecified, when the frame
/// needs an offload the guest did not accept (the switch's fallback should have prevented it; a
/// renegotiation racing with frames in flight can still get here): the caller drops it, since
/// delivering a partial checksum as complete would corrupt it. noexcept.
bool make_rx_hdr(const port::Offload& ol, uint32_t guest_caps, virtio::VirtioNetHdrV1* h) noexcept;

}  // namespace uvs::netback
