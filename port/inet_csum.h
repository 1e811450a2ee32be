// SPDX-License-Identifier: MIT
// Internet checksum (RFC 1071) over scattered bytes: partial sums, folding, incremental updates.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace uvs::port {

/// A running ones'-complement sum over a byte stream that may arrive in pieces of any length.
/// Sums 32-bit words in host order into 64 bits (RFC 1071 2(B): the sum is byte-order
/// independent, so only the final fold needs swapping) and tracks the parity of the bytes seen,
/// so a piece that starts at an odd position is rotated into place (RFC 1071 2(A)).
class CsumAcc {
 public:
  /// Adds the next `len` bytes of the stream.
  void add(const void* data, size_t len) noexcept {
    const auto* p = static_cast<const uint8_t*>(data);
    uint64_t s = 0;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      s += (w & 0xffffffffu) + (w >> 32);
    }
    for (; i + 2 <= len; i += 2) s += uint64_t(p[i]) | uint64_t(p[i + 1]) << 8;
    if (i < len) s += p[i];  // a trailing byte is the high (first) half of a word
    uint16_t f = fold64(s);
    // A piece that starts at an odd position has every byte in the other half of its word.
    if (odd_) f = uint16_t(f >> 8 | f << 8);
    sum_ += f;
    odd_ ^= (len & 1) != 0;
  }
  /// Adds every byte of `iov` from `offset` for `len` bytes (stops at the end of the segments).
  void add_iov(const iovec* iov, uint32_t iovcnt, size_t offset, size_t len) noexcept {
    for (uint32_t k = 0; k < iovcnt && len; ++k) {
      size_t seg = iov[k].iov_len;
      if (offset >= seg) {
        offset -= seg;
        continue;
      }
      size_t take = seg - offset < len ? seg - offset : len;
      add(static_cast<const uint8_t*>(iov[k].iov_base) + offset, take);
      len -= take;
      offset = 0;
    }
  }
  /// Adds a 16-bit number (a length, a protocol) as if it were a big-endian word of the stream;
  /// does not move the stream's position.
  void add_u16(uint16_t v) noexcept { sum_ += uint16_t(v >> 8 | v << 8); }
  /// Adds a 32-bit number as two big-endian words (IPv6 pseudo-header upper-layer length).
  void add_u32(uint32_t v) noexcept {
    add_u16(uint16_t(v >> 16));
    add_u16(uint16_t(v));
  }
  /// The sum folded to 16 bits as a number (network-order value), not inverted.
  uint16_t sum16() const noexcept {
    const uint16_t h = fold64(sum_);
    return uint16_t(h >> 8 | h << 8);
  }
  /// The checksum field value: the inverted sum, with 0 sent as 0xffff (its ones'-complement
  /// equal), as Linux does (CSUM_MANGLED_0) so that a UDP checksum is never "none".
  uint16_t finish() const noexcept {
    const uint16_t c = uint16_t(~sum16());
    return c == 0 ? 0xffff : c;
  }

 private:
  static uint16_t fold64(uint64_t s) noexcept {
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return uint16_t((s & 0xffff) + (s >> 16));
  }
  uint64_t sum_ = 0;  // host-order 16-bit halves; never overflows for frames under 4 GiB
  bool odd_ = false;  // stream position is odd
};

}  // namespace uvs::port
