// SPDX-License-Identifier: MIT
// libFuzzer target: the NAT's large-segment handling — a guest's SYN rewrite and what libslirp's
// output becomes (plain, a GSO frame, IPv4 fragments) — over arbitrary frames.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "slirp-glue/nat_segments.h"

using uvs::slirpglue::NatSegments;

// Input: [MTU selector] + one Ethernet frame. The frame goes through on_guest_syn (as a guest
// sent it) and then start()/next() (as libslirp sent it), each on a buffer of exactly its size
// so ASan sees any read or write past the frame.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static constexpr uint32_t kMtus[] = {1500, 576, 68, 9000, 65520, 1280, 100, 4000};
  const uint32_t mtu = kMtus[data[0] & 7];
  NatSegments segs(mtu);
  std::vector<uint8_t> frame(data + 1, data + size);
  const bool syn = NatSegments::is_tcp_syn(frame.data(), frame.size());
  if (syn) {
    segs.on_guest_syn(frame.data(), frame.size());
    // Raising the option changes two bytes and the checksum, never what makes it a SYN.
    if (!NatSegments::is_tcp_syn(frame.data(), frame.size())) __builtin_trap();
  }
  const NatSegments::Out kind = segs.start(frame.data(), frame.size());
  size_t total = 0, frames = 0;
  std::vector<uint8_t> copy;
  for (auto out = segs.next(); !out.empty(); out = segs.next()) {
    for (const uvs::port::Frame& f : out) {
      copy.resize(f.len);
      if (f.copy_out(0, copy.data(), f.len) != f.len) __builtin_trap();
      if (f.len > frame.size() + 0u && kind != NatSegments::Out::kFragments) __builtin_trap();
      if (kind == NatSegments::Out::kFragments && f.len > 14 + mtu) __builtin_trap();
      if (kind == NatSegments::Out::kGso && (f.ol.gso_size == 0 || f.ol.hdr_len >= f.len)) {
        __builtin_trap();
      }
      total += f.len;
      ++frames;
    }
    if (frames > 65536) __builtin_trap();
  }
  if (kind == NatSegments::Out::kDropDf && frames != 0) __builtin_trap();
  if ((kind == NatSegments::Out::kPlain || kind == NatSegments::Out::kGso) && frames != 1) {
    __builtin_trap();
  }
  (void)total;
  return 0;
}
