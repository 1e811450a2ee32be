// SPDX-License-Identifier: MIT
// FrameBatch: the preallocated receive slots a tap or datagram port reads one burst into, and
// the lent Frames that hand that burst to a sink.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "port/frame.h"
#include "port/port.h"

namespace uvs::netback {

/// port::kMaxBurst receive slots of `slot_size` bytes each, allocated once at construction, so
/// the data path never allocates: the kernel writes one frame (or datagram) per slot and the
/// batch lends the frames to a sink. The memory is left uninitialised, so a slot's pages only
/// become resident once a frame that large has been received into it. Loop thread only.
class FrameBatch {
 public:
  /// Allocates the slots (control path; throws std::bad_alloc like any allocation).
  explicit FrameBatch(size_t slot_size);
  FrameBatch(const FrameBatch&) = delete;
  FrameBatch& operator=(const FrameBatch&) = delete;

  static constexpr size_t kSlots = port::kMaxBurst;

  size_t slot_size() const noexcept { return slot_size_; }
  /// Start of slot `i` (< kSlots).
  uint8_t* slot(size_t i) noexcept { return mem_.get() + i * slot_size_; }
  /// One iovec per slot covering all of it, for readv / recvmmsg. The kernel never writes
  /// through these iovecs' own fields, so they stay valid for every burst.
  iovec* slot_iovs() noexcept { return slot_iov_.data(); }

  /// Appends the frame of `len` bytes at `offset` in slot `slot`, with offload metadata `ol`, to
  /// the burst. Asserts (debug) that it lies inside the slot and that the burst is not full.
  void add(size_t slot, size_t offset, uint32_t len, const port::Offload& ol = {}) noexcept;
  /// The frames added since clear(), in order; their segments point into the slots.
  std::span<const port::Frame> frames() const noexcept { return {frames_.data(), count_}; }
  size_t size() const noexcept { return count_; }
  bool full() const noexcept { return count_ == kSlots; }
  void clear() noexcept { count_ = 0; }

 private:
  size_t slot_size_;
  std::unique_ptr<uint8_t[]> mem_;
  std::array<iovec, kSlots> slot_iov_{};
  std::array<iovec, kSlots> frame_iov_{};
  std::array<port::Frame, kSlots> frames_{};
  size_t count_ = 0;
};

/// Hands `frames` to `sink` as one burst from `from`, or counts them in `*no_sink` when there is
/// no sink. Returns how many were delivered. Loop thread only; never throws.
inline size_t deliver_burst(port::FrameSink* sink, port::Port& from,
                            std::span<const port::Frame> frames, uint64_t* no_sink) noexcept {
  if (frames.empty()) return 0;
  if (sink == nullptr) {
    *no_sink += frames.size();
    return 0;
  }
  sink->receive_burst(from, frames);
  return frames.size();
}

/// Reads up to `n` datagrams into `msgs` with one recvmmsg, after resetting the flags and name
/// lengths the previous call left in them. The fd is level-triggered, so datagrams beyond `n`
/// come back on the loop's next iteration. Returns how many were read: 0 when none was queued,
/// with an error other than EAGAIN counted in `*errors`. Loop thread only; never throws.
inline size_t recv_datagram_burst(int fd, mmsghdr* msgs, size_t n, uint64_t* errors) noexcept {
  for (size_t i = 0; i < n; ++i) {
    msgs[i].msg_hdr.msg_flags = 0;
    msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
  int r;
  do {
    r = ::recvmmsg(fd, msgs, static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  } while (r < 0 && errno == EINTR);
  if (r < 0 && errno != EAGAIN) ++*errors;
  return r > 0 ? static_cast<size_t>(r) : 0;
}

}  // namespace uvs::netback
