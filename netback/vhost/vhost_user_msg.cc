// SPDX-License-Identifier: MIT
// vhost-user message validation rules, the non-blocking SCM_RIGHTS reader and reply sending.
#include "netback/vhost/vhost_user_msg.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace uvs::netback {

using vu::VhostUserRequest;

const char* to_string(MsgError e) noexcept {
  switch (e) {
    case MsgError::kOk: return "ok";
    case MsgError::kTruncated: return "truncated message";
    case MsgError::kTrailingBytes: return "bytes beyond the announced size";
    case MsgError::kBadVersion: return "unsupported protocol version";
    case MsgError::kUnexpectedReply: return "request carries the REPLY flag";
    case MsgError::kPayloadTooBig: return "payload size above the maximum";
    case MsgError::kBadPayloadSize: return "payload size wrong for the request";
    case MsgError::kBadFdCount: return "wrong number of file descriptors for the request";
    case MsgError::kTooManyFds: return "too many file descriptors";
    case MsgError::kBadRegionCount: return "invalid memory region count";
    case MsgError::kBadConfigSize: return "config size does not match the payload";
    case MsgError::kPeerClosed: return "peer closed the connection";
    case MsgError::kIo: return "socket error";
  }
  return "unknown message error";
}

const char* request_name(VhostUserRequest r) noexcept {
  switch (r) {
    case VhostUserRequest::kNone: return "NONE";
    case VhostUserRequest::kGetFeatures: return "GET_FEATURES";
    case VhostUserRequest::kSetFeatures: return "SET_FEATURES";
    case VhostUserRequest::kSetOwner: return "SET_OWNER";
    case VhostUserRequest::kResetOwner: return "RESET_OWNER";
    case VhostUserRequest::kSetMemTable: return "SET_MEM_TABLE";
    case VhostUserRequest::kSetLogBase: return "SET_LOG_BASE";
    case VhostUserRequest::kSetLogFd: return "SET_LOG_FD";
    case VhostUserRequest::kSetVringNum: return "SET_VRING_NUM";
    case VhostUserRequest::kSetVringAddr: return "SET_VRING_ADDR";
    case VhostUserRequest::kSetVringBase: return "SET_VRING_BASE";
    case VhostUserRequest::kGetVringBase: return "GET_VRING_BASE";
    case VhostUserRequest::kSetVringKick: return "SET_VRING_KICK";
    case VhostUserRequest::kSetVringCall: return "SET_VRING_CALL";
    case VhostUserRequest::kSetVringErr: return "SET_VRING_ERR";
    case VhostUserRequest::kGetProtocolFeatures: return "GET_PROTOCOL_FEATURES";
    case VhostUserRequest::kSetProtocolFeatures: return "SET_PROTOCOL_FEATURES";
    case VhostUserRequest::kGetQueueNum: return "GET_QUEUE_NUM";
    case VhostUserRequest::kSetVringEnable: return "SET_VRING_ENABLE";
    case VhostUserRequest::kSendRarp: return "SEND_RARP";
    case VhostUserRequest::kNetSetMtu: return "NET_SET_MTU";
    case VhostUserRequest::kSetBackendReqFd: return "SET_BACKEND_REQ_FD";
    case VhostUserRequest::kIotlbMsg: return "IOTLB_MSG";
    case VhostUserRequest::kSetVringEndian: return "SET_VRING_ENDIAN";
    case VhostUserRequest::kGetConfig: return "GET_CONFIG";
    case VhostUserRequest::kSetConfig: return "SET_CONFIG";
    case VhostUserRequest::kCreateCryptoSession: return "CREATE_CRYPTO_SESSION";
    case VhostUserRequest::kCloseCryptoSession: return "CLOSE_CRYPTO_SESSION";
    case VhostUserRequest::kPostcopyAdvise: return "POSTCOPY_ADVISE";
    case VhostUserRequest::kPostcopyListen: return "POSTCOPY_LISTEN";
    case VhostUserRequest::kPostcopyEnd: return "POSTCOPY_END";
    case VhostUserRequest::kGetInflightFd: return "GET_INFLIGHT_FD";
    case VhostUserRequest::kSetInflightFd: return "SET_INFLIGHT_FD";
    case VhostUserRequest::kGpuSetSocket: return "GPU_SET_SOCKET";
    case VhostUserRequest::kResetDevice: return "RESET_DEVICE";
    case VhostUserRequest::kVringKick: return "VRING_KICK";
    case VhostUserRequest::kGetMaxMemSlots: return "GET_MAX_MEM_SLOTS";
    case VhostUserRequest::kAddMemReg: return "ADD_MEM_REG";
    case VhostUserRequest::kRemMemReg: return "REM_MEM_REG";
    case VhostUserRequest::kSetStatus: return "SET_STATUS";
    case VhostUserRequest::kGetStatus: return "GET_STATUS";
  }
  return "UNKNOWN";
}

namespace {

MsgError expect(uint32_t size, uint32_t want_size, uint32_t fds, uint32_t want_fds) noexcept {
  if (size != want_size) return MsgError::kBadPayloadSize;
  if (fds != want_fds) return MsgError::kBadFdCount;
  return MsgError::kOk;
}

}  // namespace

MsgError validate_payload(VhostUserRequest request, const uint8_t* payload, uint32_t size,
                          uint32_t fd_count) noexcept {
  if (size > vu::kMaxPayloadSize) return MsgError::kPayloadTooBig;
  if (fd_count > vu::kMaxFds) return MsgError::kTooManyFds;
  switch (request) {
    // No payload, no fds.
    case VhostUserRequest::kGetFeatures:
    case VhostUserRequest::kSetOwner:
    case VhostUserRequest::kResetOwner:
    case VhostUserRequest::kGetProtocolFeatures:
    case VhostUserRequest::kGetQueueNum:
    case VhostUserRequest::kResetDevice:
    case VhostUserRequest::kGetMaxMemSlots:
    case VhostUserRequest::kGetStatus:
      return expect(size, 0, fd_count, 0);

    // A u64, no fds.
    case VhostUserRequest::kSetFeatures:
    case VhostUserRequest::kSetProtocolFeatures:
    case VhostUserRequest::kSendRarp:
    case VhostUserRequest::kNetSetMtu:
    case VhostUserRequest::kSetStatus:
      return expect(size, sizeof(uint64_t), fd_count, 0);

    // Vring state.
    case VhostUserRequest::kSetVringNum:
    case VhostUserRequest::kSetVringBase:
    case VhostUserRequest::kGetVringBase:
    case VhostUserRequest::kSetVringEnable:
      return expect(size, sizeof(vu::VringState), fd_count, 0);

    case VhostUserRequest::kSetVringAddr:
      return expect(size, sizeof(vu::VringAddr), fd_count, 0);

    // u64 with the vring index; an fd unless the NOFD bit is set (vhost-user.rst
    // SET_VRING_KICK: "This flag is set when there is no file descriptor").
    case VhostUserRequest::kSetVringKick:
    case VhostUserRequest::kSetVringCall:
    case VhostUserRequest::kSetVringErr: {
      if (size != sizeof(uint64_t)) return MsgError::kBadPayloadSize;
      uint64_t v;
      std::memcpy(&v, payload, sizeof v);
      return expect(size, size, fd_count, (v & vu::kVringNofdMask) ? 0 : 1);
    }

    case VhostUserRequest::kSetMemTable: {
      if (size < vu::kMemoryTableHeaderSize) return MsgError::kBadPayloadSize;
      uint32_t n;
      std::memcpy(&n, payload, sizeof n);
      if (n == 0 || n > vu::kMaxMemTableRegions) return MsgError::kBadRegionCount;
      // Frontends send exactly the used entries (QEMU, DPDK); accept the full table too.
      uint32_t exact = vu::kMemoryTableHeaderSize + n * sizeof(vu::MemoryRegion);
      if (size != exact && size != sizeof(vu::MemoryTable)) return MsgError::kBadPayloadSize;
      return fd_count == n ? MsgError::kOk : MsgError::kBadFdCount;
    }

    case VhostUserRequest::kAddMemReg:
      return expect(size, sizeof(vu::SingleMemoryRegion), fd_count, 1);
    case VhostUserRequest::kRemMemReg:
      // vhost-user.rst REM_MEM_REG: no fd SHOULD be sent, but a back-end MAY accept one (and
      // must close it) for compatibility with older front-ends.
      if (size != sizeof(vu::SingleMemoryRegion)) return MsgError::kBadPayloadSize;
      return fd_count <= 1 ? MsgError::kOk : MsgError::kBadFdCount;

    case VhostUserRequest::kSetLogBase:
      return expect(size, sizeof(vu::LogDescription), fd_count, 1);
    case VhostUserRequest::kSetLogFd:
      return expect(size, 0, fd_count, 1);
    case VhostUserRequest::kSetBackendReqFd:
      return expect(size, 0, fd_count, 1);

    case VhostUserRequest::kGetConfig:
    case VhostUserRequest::kSetConfig: {
      if (size < sizeof(vu::ConfigHeader)) return MsgError::kBadPayloadSize;
      vu::ConfigHeader h;
      std::memcpy(&h, payload, sizeof h);
      if (h.size > vu::kMaxConfigSize || size != sizeof(vu::ConfigHeader) + h.size) {
        return MsgError::kBadConfigSize;
      }
      return fd_count == 0 ? MsgError::kOk : MsgError::kBadFdCount;
    }

    default:
      // Requests we do not implement: within the global limits they are well-formed enough to
      // answer with an error.
      return MsgError::kOk;
  }
}

MsgError parse_message(std::span<const uint8_t> bytes, uint32_t fd_count,
                       VhostUserMsg* out) noexcept {
  if (bytes.size() < sizeof(vu::VhostUserHeader)) return MsgError::kTruncated;
  vu::VhostUserHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if ((h.flags & vu::kFlagVersionMask) != vu::kFlagVersion) return MsgError::kBadVersion;
  if (h.flags & vu::kFlagReply) return MsgError::kUnexpectedReply;
  if (h.size > vu::kMaxPayloadSize) return MsgError::kPayloadTooBig;
  size_t body = bytes.size() - sizeof h;
  if (body < h.size) return MsgError::kTruncated;
  if (body > h.size) return MsgError::kTrailingBytes;
  const uint8_t* payload = bytes.data() + sizeof h;
  MsgError e = validate_payload(static_cast<VhostUserRequest>(h.request), payload, h.size,
                                fd_count);
  if (e != MsgError::kOk) return e;
  out->hdr = h;
  std::memset(&out->payload, 0, sizeof out->payload);
  if (h.size) std::memcpy(out->payload.raw, payload, h.size);
  out->fd_count = fd_count;
  return MsgError::kOk;
}

bool ReceivedFds::add(int fd) noexcept {
  if (count_ == vu::kMaxFds) {
    ::close(fd);
    return false;
  }
  fds_[count_++] = fd;
  return true;
}

int ReceivedFds::take(uint32_t i) noexcept {
  if (i >= count_) return -1;
  int fd = fds_[i];
  fds_[i] = -1;
  return fd;
}

void ReceivedFds::clear() noexcept {
  for (uint32_t i = 0; i < count_; ++i) {
    if (fds_[i] >= 0) ::close(fds_[i]);
  }
  count_ = 0;
}

void MsgReader::reset() noexcept {
  have_ = 0;
  complete_ = false;
  fds_.clear();
}

MsgReader::Status MsgReader::read(int sock, VhostUserMsg* msg, MsgError* err) noexcept {
  if (complete_) {
    // The previous message's fds that its handler did not take.
    fds_.clear();
    complete_ = false;
  }
  constexpr size_t kHdr = sizeof(vu::VhostUserHeader);
  for (;;) {
    size_t want;
    if (have_ < kHdr) {
      want = kHdr - have_;
    } else {
      uint32_t size;
      std::memcpy(&size, buf_ + offsetof(vu::VhostUserHeader, size), sizeof size);
      // Refuse before reading: a huge size must never make us wait for (or buffer) more.
      if (size > vu::kMaxPayloadSize) {
        *err = MsgError::kPayloadTooBig;
        reset();
        return Status::kError;
      }
      want = kHdr + size - have_;
    }
    if (want == 0) {
      MsgError e = parse_message({buf_, have_}, fds_.count(), msg);
      have_ = 0;
      if (e != MsgError::kOk) {
        *err = e;
        fds_.clear();
        return Status::kError;
      }
      complete_ = true;
      return Status::kMessage;
    }

    iovec iov{buf_ + have_, want};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * vu::kMaxFds)];
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    ssize_t r = ::recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::kAgain;
      errno_ = errno;
      *err = errno == ECONNRESET ? MsgError::kPeerClosed : MsgError::kIo;
      reset();
      return Status::kError;
    }
    // Take ownership of every fd that arrived before deciding anything else, so each one is
    // closed on any error path.
    bool too_many = (mh.msg_flags & MSG_CTRUNC) != 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < n; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        if (!fds_.add(fd)) too_many = true;
      }
    }
    if (too_many) {
      *err = MsgError::kTooManyFds;
      reset();
      return Status::kError;
    }
    if (r == 0) {
      *err = MsgError::kPeerClosed;
      reset();
      return Status::kError;
    }
    have_ += static_cast<size_t>(r);
  }
}

bool send_reply(int sock, VhostUserRequest request, const void* payload, uint32_t size) noexcept {
  vu::VhostUserHeader h{static_cast<uint32_t>(request), vu::kFlagVersion | vu::kFlagReply, size};
  iovec iov[2] = {{&h, sizeof h}, {const_cast<void*>(payload), size}};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = size ? 2 : 1;
  for (;;) {
    ssize_t r = ::sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    return r == static_cast<ssize_t>(sizeof h + size);
  }
}

}  // namespace uvs::netback
