// SPDX-License-Identifier: MIT
// Fault: the canned ways the test frontend misbehaves toward a backend, and what each needs.
#pragma once

#include <cstdint>
#include <span>

namespace uvs::frontend {

/// One misbehaviour VhostFrontend::inject() can perform. A correct backend treats each as a
/// misbehaving peer: it marks that port broken (and drops the connection) without harming any
/// other port (ARCHITECTURE.md, "Errors, in three tiers").
enum class Fault {
  // ---- control channel ----
  kDisconnectMidHeader,      ///< 6 of the 12 header bytes, then close
  kDisconnectMidPayload,     ///< SET_MEM_TABLE header + fds + half the payload, then close
  kPayloadTooShort,          ///< SET_VRING_NUM announcing and sending 4 bytes (needs 8)
  kPayloadTooLong,           ///< SET_VRING_BASE announcing and sending 16 bytes (needs 8)
  kPayloadHuge,              ///< a header announcing a 256 MiB payload
  kMemTableTooManyRegions,   ///< SET_MEM_TABLE with num_regions = 9 (max 8)
  kMemRegionOverflow,        ///< SET_MEM_TABLE region whose gpa + size wraps around 2^64
  kTooManyFds,               ///< SET_MEM_TABLE carrying 9 fds (one more than any message may)
  kMissingFds,               ///< SET_MEM_TABLE with regions but no fds
  kMemFdTooShort,            ///< SET_MEM_TABLE whose region 0 fd is a 4 KiB memfd (SIGBUS bait)
  kKickWithoutFd,            ///< SET_VRING_KICK without the no-fd bit and without an fd
  kUnknownRequest,           ///< request id 0x7777 with NEED_REPLY
  kVringIndexOutOfRange,     ///< SET_VRING_NUM for vring 255
  kVringNumTooLarge,         ///< SET_VRING_NUM of 65535 entries (max 32768, power of two)
  kRingAddrOutOfMemory,      ///< SET_VRING_ADDR (TX vring) with addresses in no region, then a kick
  // ---- TX ring of the queue pair (device-readable chains), followed by a kick ----
  kDescOutOfMemory,          ///< descriptor address in no region
  kDescStraddlesRegionEnd,   ///< descriptor starting 8 bytes before region 0's end, 64 long
  kDescNextOutOfRange,       ///< NEXT pointing at index queue_size
  kDescChainLoop,            ///< d0 -> d1 -> d0
  kChainLongerThanRing,      ///< every descriptor chained, the last pointing back to the first
  kZeroLengthDesc,           ///< a single zero-length descriptor
  kHugeLengthDesc,           ///< a single 0xFFFFFFFF-byte descriptor
  kAvailIdxJump,             ///< avail->idx moved by queue_size + 1
  kAvailHeadOutOfRange,      ///< avail ring entry >= queue_size
  kIndirectBadLength,        ///< INDIRECT descriptor of 17 bytes (not a multiple of 16)
  kIndirectNested,           ///< an indirect table entry that is itself INDIRECT
  kIndirectOutOfMemory,      ///< INDIRECT table address in no region
  kIndirectWithNext,         ///< INDIRECT and NEXT on the same descriptor (§2.7.5.3.1)
  // ---- packed TX ring only (virtio 1.1 §2.7), followed by a kick ----
  kPackedChainWrongWrap,     ///< a 2-descriptor chain whose second has the other lap's AVAIL/USED
  kPackedBadId,              ///< a valid frame under buffer id 0xffff (never lent): the device
                             ///< cannot tell, so it must just return it; the driver counts it
  // ---- RX ring (device-writable buffers); bites when the backend next delivers a frame ----
  kRxDescOutOfMemory,        ///< every posted RX descriptor re-pointed outside guest memory
  kRxDescReadOnly,           ///< every posted RX descriptor stripped of its WRITE flag
};

/// Which part of the device a fault targets.
enum class FaultTarget { kControl, kTxRing, kRxRing };

/// Which ring layouts a fault can be injected on (split-ring index faults have no packed
/// counterpart: a packed ring has no avail index, no next field and no descriptor table).
enum class FaultRings { kBoth, kSplitOnly, kPackedOnly };

/// Static facts about one fault.
struct FaultInfo {
  Fault fault;
  const char* name;    ///< e.g. "desc-chain-loop"
  FaultTarget target;
  bool closes_socket;  ///< the frontend itself hangs up as part of the fault
  FaultRings rings = FaultRings::kBoth;
};

/// Whether `info` can be injected on a session whose rings are packed (or split).
inline bool fault_applies(const FaultInfo& info, bool packed) noexcept {
  return info.rings == FaultRings::kBoth || (info.rings == FaultRings::kPackedOnly) == packed;
}

/// Every fault, in declaration order. Tests iterate over it.
std::span<const FaultInfo> all_faults() noexcept;
/// Facts about `fault`.
const FaultInfo& fault_info(Fault fault) noexcept;
/// Short name of `fault` (never nullptr).
inline const char* fault_name(Fault fault) noexcept { return fault_info(fault).name; }

}  // namespace uvs::frontend
