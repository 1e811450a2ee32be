// SPDX-License-Identifier: MIT
// vhost-user wire protocol: request ids, header flags, protocol feature bits and payload layouts.
//
// Facts from QEMU docs/interop/vhost-user.rst ("Message Specification", "Front-end message
// types", "Protocol features"). Header-only and dependency-free so both the backend and the
// in-repo frontend (tests, benchmark) share one definition of the wire format. All integers are
// little-endian host order on the wire (vhost-user is a same-host protocol).
#pragma once

#include <cstdint>

namespace uvs::netback::vu {

/// Front-end → back-end request ids (vhost-user.rst "Front-end message types").
enum class VhostUserRequest : uint32_t {
  kNone = 0,
  kGetFeatures = 1,
  kSetFeatures = 2,
  kSetOwner = 3,
  kResetOwner = 4,
  kSetMemTable = 5,
  kSetLogBase = 6,
  kSetLogFd = 7,
  kSetVringNum = 8,
  kSetVringAddr = 9,
  kSetVringBase = 10,
  kGetVringBase = 11,
  kSetVringKick = 12,
  kSetVringCall = 13,
  kSetVringErr = 14,
  kGetProtocolFeatures = 15,
  kSetProtocolFeatures = 16,
  kGetQueueNum = 17,
  kSetVringEnable = 18,
  kSendRarp = 19,
  kNetSetMtu = 20,
  kSetBackendReqFd = 21,
  kIotlbMsg = 22,
  kSetVringEndian = 23,
  kGetConfig = 24,
  kSetConfig = 25,
  kCreateCryptoSession = 26,
  kCloseCryptoSession = 27,
  kPostcopyAdvise = 28,
  kPostcopyListen = 29,
  kPostcopyEnd = 30,
  kGetInflightFd = 31,
  kSetInflightFd = 32,
  kGpuSetSocket = 33,
  kResetDevice = 34,
  kVringKick = 35,
  kGetMaxMemSlots = 36,
  kAddMemReg = 37,
  kRemMemReg = 38,
  kSetStatus = 39,
  kGetStatus = 40,
};

/// Header `flags` field (vhost-user.rst "Header"): bits 0-1 version, bit 2 reply, bit 3
/// need_reply.
inline constexpr uint32_t kFlagVersionMask = 0x3;
inline constexpr uint32_t kFlagVersion = 0x1;
inline constexpr uint32_t kFlagReply = 0x4;
inline constexpr uint32_t kFlagNeedReply = 0x8;

/// Protocol feature bit numbers (vhost-user.rst "Protocol features"); use as `1ull << bit`.
enum class ProtocolFeature : uint32_t {
  kMq = 0,
  kLogShmfd = 1,
  kRarp = 2,
  kReplyAck = 3,
  kNetMtu = 4,
  kBackendReq = 5,
  kCrossEndian = 6,
  kCryptoSession = 7,
  kPagefault = 8,
  kConfig = 9,
  kBackendSendFd = 10,
  kHostNotifier = 11,
  kInflightShmfd = 12,
  kResetDevice = 13,
  kInbandNotifications = 14,
  kConfigureMemSlots = 15,
  kStatus = 16,
  kXenMmap = 17,
  kSharedObject = 18,
  kDeviceState = 19,
};

/// `1ull << bit` for a protocol feature.
constexpr uint64_t protocol_bit(ProtocolFeature f) noexcept {
  return uint64_t{1} << static_cast<uint32_t>(f);
}

/// The 12-byte message header that precedes every payload.
struct VhostUserHeader {
  uint32_t request;  ///< VhostUserRequest value
  uint32_t flags;    ///< kFlag* bits
  uint32_t size;     ///< payload bytes that follow
};
static_assert(sizeof(VhostUserHeader) == 12);

/// u64 payload as used by SET_VRING_KICK/CALL/ERR: bits 0-7 the vring index, bit 8 "no fd"
/// (vhost-user.rst "A single 64-bit integer" + SET_VRING_KICK).
inline constexpr uint64_t kVringIndexMask = 0xff;
inline constexpr uint64_t kVringNofdMask = 0x100;

/// SET_VRING_NUM / SET_VRING_BASE / GET_VRING_BASE / SET_VRING_ENABLE payload.
struct VringState {
  uint32_t index;
  uint32_t num;
};
static_assert(sizeof(VringState) == 8);

/// SET_VRING_ADDR payload. Addresses are in the front-end's (QEMU process) virtual address
/// space, translated through the user_address of the memory regions.
struct VringAddr {
  uint32_t index;
  uint32_t flags;             ///< bit 0: log the used ring (kVringAddrFlagLog)
  uint64_t desc_user_addr;
  uint64_t used_user_addr;
  uint64_t avail_user_addr;
  uint64_t log_guest_addr;
};
static_assert(sizeof(VringAddr) == 40);
inline constexpr uint32_t kVringAddrFlagLog = 0x1;

/// One guest memory region: guest physical range, its front-end virtual address, and the
/// offset into the mmap()ed fd where it starts.
struct MemoryRegion {
  uint64_t guest_phys_addr;
  uint64_t memory_size;
  uint64_t userspace_addr;
  uint64_t mmap_offset;
};
static_assert(sizeof(MemoryRegion) == 32);

/// SET_MEM_TABLE carries at most this many regions (and as many fds, one per region).
inline constexpr uint32_t kMaxMemTableRegions = 8;

/// SET_MEM_TABLE payload. The front-end may send only `num_regions` entries: valid sizes are
/// `8 + num_regions * 32`.
struct MemoryTable {
  uint32_t num_regions;
  uint32_t padding;
  MemoryRegion regions[kMaxMemTableRegions];
};
static_assert(sizeof(MemoryTable) == 8 + 8 * 32);
inline constexpr uint32_t kMemoryTableHeaderSize = 8;

/// ADD_MEM_REG / REM_MEM_REG payload (one region, one fd with ADD; REM's fd is optional and
/// ignored per spec).
struct SingleMemoryRegion {
  uint64_t padding;
  MemoryRegion region;
};
static_assert(sizeof(SingleMemoryRegion) == 40);

/// SET_LOG_BASE payload (we never offer LOG_ALL / LOG_SHMFD, so this is rejected).
struct LogDescription {
  uint64_t mmap_size;
  uint64_t mmap_offset;
};
static_assert(sizeof(LogDescription) == 16);

/// GET_CONFIG / SET_CONFIG: a 12-byte header followed by `size` bytes of config space.
struct ConfigHeader {
  uint32_t offset;
  uint32_t size;
  uint32_t flags;  ///< kConfigFlag*
};
static_assert(sizeof(ConfigHeader) == 12);
inline constexpr uint32_t kConfigFlagWritable = 0x0;
inline constexpr uint32_t kConfigFlagMigration = 0x1;
/// Largest config space a GET/SET_CONFIG carries (QEMU's VHOST_USER_MAX_CONFIG_SIZE).
inline constexpr uint32_t kMaxConfigSize = 256;

/// Full GET/SET_CONFIG payload with the largest config space.
struct ConfigSpace {
  ConfigHeader hdr;
  uint8_t region[kMaxConfigSize];
};
static_assert(sizeof(ConfigSpace) == 12 + 256);

/// At most this many fds travel with one message (SET_MEM_TABLE: one per region).
inline constexpr uint32_t kMaxFds = kMaxMemTableRegions;

/// No valid payload is larger than this; a header announcing more is a protocol error.
inline constexpr uint32_t kMaxPayloadSize =
    sizeof(ConfigSpace) > sizeof(MemoryTable) ? sizeof(ConfigSpace) : sizeof(MemoryTable);

/// Queue index encoding for a net device: queue pair `p` has RX vring 2p and TX vring 2p+1
/// (virtio 1.x §5.1.2, "Virtqueues").
inline constexpr uint32_t kMaxVrings = 256;  ///< index is 8 bits wide (kVringIndexMask)

}  // namespace uvs::netback::vu
