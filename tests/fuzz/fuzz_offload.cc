// SPDX-License-Identifier: MIT
// Fuzz target: the switch's offload fallback (GSO header parsing, segmentation, checksum
// completion) over arbitrary frames, metadata, destination caps and scatter patterns.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "port/inet_csum.h"
#include "switch/offload_fallback.h"

namespace {

// Input: flags, gso type, ecn, caps, scatter step, gso_size (LE16), csum_start (LE16),
// csum_offset (LE16), then the frame.
constexpr size_t kPrefix = 11;

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using uvs::port::Offload;
  if (size < kPrefix) return 0;
  static uvs::bridge::OffloadFallback* fb = new uvs::bridge::OffloadFallback();
  Offload ol;
  ol.flags = data[0] & 3;
  ol.gso = Offload::Gso(data[1] % 4);
  ol.ecn = data[2] & 1;
  const uint32_t caps = data[3] & 31;
  const size_t step = size_t(data[4]) + 1;
  ol.gso_size = le16(data + 5);
  ol.csum_start = le16(data + 7);
  ol.csum_offset = le16(data + 9);
  // The frame in its own allocation, so ASan sees any read past it; scattered in `step` pieces.
  std::vector<uint8_t> frame(data + kPrefix, data + size);
  std::vector<iovec> iov;
  for (size_t o = 0; o < frame.size(); o += step) {
    iov.push_back(iovec{frame.data() + o, std::min(step, frame.size() - o)});
  }
  uvs::port::Frame f{iov.data(), uint32_t(iov.size()), uint32_t(frame.size())};
  f.ol = ol;
  if (uvs::bridge::offload_fits(ol, caps)) return 0;  // the switch would not call it
  if (fb->start(f, caps) != uvs::port::OffloadError::kNone) return 0;
  const bool seg = fb->segmenting();
  size_t total = 0, outputs = 0;
  std::vector<uint8_t> out;
  for (auto s = fb->next(); !s.empty(); s = fb->next()) {
    for (const uvs::port::Frame& o : s) {
      check(o.len <= uvs::port::kMaxFrameLen);
      out.resize(o.len);
      check(o.copy_out(0, out.data(), out.size()) == o.len);
      total += o.len;
      ++outputs;
      if (seg) {
        check(o.ol.gso == Offload::Gso::kNone);
        check(o.len <= uvs::port::kMaxOffloadHdr + size_t(ol.gso_size));
      }
    }
    check(s.size() <= uvs::bridge::OffloadFallback::kMaxOut);
  }
  check(outputs >= 1);
  if (!seg) check(outputs == 1 && total <= frame.size());
  return 0;
}
