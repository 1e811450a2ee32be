// SPDX-License-Identifier: MIT
// FuzzReader: how the fuzz targets take structured operands from libFuzzer's flat input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace uvs::fuzz {

/// Consumes the input front to back; past its end every read gives zeros (or nothing), so a
/// target never has to check lengths before reading an operand.
struct FuzzReader {
  const uint8_t* p;
  size_t n;

  uint8_t u8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  /// Big-endian, like the wire formats the targets build.
  uint16_t u16() {
    const uint8_t hi = u8();
    return uint16_t(hi << 8 | u8());
  }
  /// The next `k` bytes (fewer at the end of the input).
  std::vector<uint8_t> bytes(size_t k) {
    if (k > n) k = n;
    std::vector<uint8_t> v(p, p + k);
    p += k;
    n -= k;
    return v;
  }
};

}  // namespace uvs::fuzz
