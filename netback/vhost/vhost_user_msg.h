// SPDX-License-Identifier: MIT
// VhostUserMsg: one vhost-user message, its validation (a pure function the fuzzer drives), the
// non-blocking socket reader with SCM_RIGHTS fds, and reply sending.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "netback/vhost/vhost_user_proto.h"

namespace uvs::netback {

/// Why a message was rejected or could not be read. Every value but kOk means the peer broke
/// the protocol (or the connection failed) and the connection must be dropped.
enum class MsgError : uint8_t {
  kOk,
  kTruncated,        ///< fewer bytes than a header, or than the header's size announces
  kTrailingBytes,    ///< more bytes than the header's size announces
  kBadVersion,       ///< flags version is not 1
  kUnexpectedReply,  ///< a request carrying the REPLY flag
  kPayloadTooBig,    ///< size above vu::kMaxPayloadSize
  kBadPayloadSize,   ///< size wrong for this request type
  kBadFdCount,       ///< number of fds wrong for this request type
  kTooManyFds,       ///< more fds than any message carries (ancillary data truncated)
  kBadRegionCount,   ///< SET_MEM_TABLE num_regions 0 or above vu::kMaxMemTableRegions
  kBadConfigSize,    ///< GET/SET_CONFIG size field does not match the payload
  kPeerClosed,       ///< EOF (possibly in the middle of a message)
  kIo,               ///< recvmsg/sendmsg failed (errno in MsgReader::last_errno())
};

/// Readable name. Never nullptr.
const char* to_string(MsgError e) noexcept;

/// A parsed message: the header and a copy of the payload (zero-filled past hdr.size). The fds
/// that came with it are held separately (ReceivedFds), so parsing never owns descriptors.
struct VhostUserMsg {
  vu::VhostUserHeader hdr{};
  union Payload {
    uint64_t u64;
    vu::VringState state;
    vu::VringAddr addr;
    vu::MemoryTable mem;
    vu::SingleMemoryRegion mem_reg;
    vu::ConfigSpace config;
    vu::LogDescription log;
    uint8_t raw[vu::kMaxPayloadSize];
  } payload{};
  uint32_t fd_count = 0;

  vu::VhostUserRequest request() const noexcept {
    return static_cast<vu::VhostUserRequest>(hdr.request);
  }
  bool need_reply() const noexcept { return (hdr.flags & vu::kFlagNeedReply) != 0; }
};

/// Readable request name ("SET_MEM_TABLE"); "UNKNOWN" for ids we do not know. Never nullptr.
const char* request_name(vu::VhostUserRequest r) noexcept;

/// Checks the payload size and fd count against what `request` allows (vhost-user.rst, each
/// request's "Request payload" and ancillary data). Unknown requests pass if within the global
/// limits: they are answered with an error by the device, not treated as malformed. Pure.
MsgError validate_payload(vu::VhostUserRequest request, const uint8_t* payload, uint32_t size,
                          uint32_t fd_count) noexcept;

/// Parses one complete message (`bytes` = 12-byte header + payload, exactly) that arrived with
/// `fd_count` descriptors. On kOk fills `*out`. Pure function of its inputs: no I/O, no fds
/// touched, no allocation; safe on arbitrary bytes (the libFuzzer entry point).
MsgError parse_message(std::span<const uint8_t> bytes, uint32_t fd_count,
                       VhostUserMsg* out) noexcept;

/// File descriptors received with one message. Owns them: whatever the handler did not take()
/// is closed by clear() or the destructor, so a malformed message cannot leak fds.
class ReceivedFds {
 public:
  ReceivedFds() = default;
  ~ReceivedFds() { clear(); }
  ReceivedFds(const ReceivedFds&) = delete;
  ReceivedFds& operator=(const ReceivedFds&) = delete;

  /// Appends an fd; returns false (and closes it) when kMaxFds are already held.
  bool add(int fd) noexcept;
  /// Transfers fd `i` to the caller (-1 if i is out of range or already taken).
  int take(uint32_t i) noexcept;
  /// Closes every fd not taken.
  void clear() noexcept;
  uint32_t count() const noexcept { return count_; }

 private:
  int fds_[vu::kMaxFds] = {};
  uint32_t count_ = 0;
};

/// Reads messages from a non-blocking stream socket without ever blocking: bytes and fds of a
/// partial message are kept until the rest arrives. One reader per connection; loop thread only.
class MsgReader {
 public:
  enum class Status { kMessage, kAgain, kError };

  /// Reads until one message is complete (kMessage: `*msg` and fds() are valid until the next
  /// call), the socket has no more data (kAgain), or the peer closed / broke the protocol
  /// (kError, reason in `*err`; fds of the broken message are closed).
  Status read(int sock, VhostUserMsg* msg, MsgError* err) noexcept;
  /// Fds of the last complete message; take() the ones kept.
  ReceivedFds& fds() noexcept { return fds_; }
  /// Forgets any partial message and closes its fds (new connection).
  void reset() noexcept;
  int last_errno() const noexcept { return errno_; }

 private:
  alignas(8) uint8_t buf_[sizeof(vu::VhostUserHeader) + vu::kMaxPayloadSize];
  size_t have_ = 0;
  ReceivedFds fds_;
  bool complete_ = false;  // fds_ belong to a message already returned
  int errno_ = 0;
};

/// Sends a reply to `request` (flags: version | REPLY) with `size` payload bytes. Never blocks
/// (MSG_DONTWAIT, MSG_NOSIGNAL); returns false when the whole message could not be written, which
/// the caller treats as a dead connection.
bool send_reply(int sock, vu::VhostUserRequest request, const void* payload,
                uint32_t size) noexcept;

}  // namespace uvs::netback
