// SPDX-License-Identifier: MIT
// libFuzzer target: a guest's virtio-net TX header checked against its frame (parse_tx_hdr), and
// the RX header built back from what it accepted (make_rx_hdr).
//
// Input: [acked offload bits] [guest caps] [segment split] [12-byte header] [frame...]. The
// frame is split into up to three separately allocated segments so ASan sees any read past one.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "netback/common/net_hdr.h"
#include "netback/common/virtio_defs.h"

using namespace uvs;
using namespace uvs::netback;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kPrefix = 3 + sizeof(virtio::VirtioNetHdrV1);
  if (size < kPrefix + port::kMinFrameLen || size > kPrefix + port::kMaxFrameLen) return 0;
  namespace feat = virtio::feature;
  const uint8_t sel = data[0];
  uint64_t acked = 0;
  const uint32_t host_bits[] = {feat::kNetCsum, feat::kNetHostTso4, feat::kNetHostTso6,
                                feat::kNetHostEcn, feat::kNetHostUso, feat::kNetGuestCsum,
                                feat::kNetGuestTso4, feat::kNetGuestTso6};
  for (uint32_t i = 0; i < 8; ++i) {
    if (sel & (1u << i)) acked |= virtio::feature_bit(host_bits[i]);
  }
  const uint32_t caps = data[1] & 0x1f;
  virtio::VirtioNetHdrV1 h;
  std::memcpy(&h, data + 3, sizeof h);
  const uint8_t* frame = data + kPrefix;
  const size_t len = size - kPrefix;

  // Three exact-size heap copies: any read past a segment is an ASan error.
  size_t cut1 = (data[2] & 0x0f) * len / 16;
  size_t cut2 = cut1 + ((data[2] >> 4) * (len - cut1)) / 16;
  std::unique_ptr<uint8_t[]> seg[3] = {std::make_unique<uint8_t[]>(cut1 ? cut1 : 1),
                                       std::make_unique<uint8_t[]>(cut2 - cut1 ? cut2 - cut1 : 1),
                                       std::make_unique<uint8_t[]>(len - cut2 ? len - cut2 : 1)};
  std::memcpy(seg[0].get(), frame, cut1);
  std::memcpy(seg[1].get(), frame + cut1, cut2 - cut1);
  std::memcpy(seg[2].get(), frame + cut2, len - cut2);
  iovec iov[3] = {{seg[0].get(), cut1}, {seg[1].get(), cut2 - cut1}, {seg[2].get(), len - cut2}};
  port::Frame f{iov, 3, static_cast<uint32_t>(len)};

  const NetOffloadFeatures nf = NetOffloadFeatures::from_acked(acked);
  port::Offload ol;
  BadHdr r = parse_tx_hdr(h, f, nf, &ol);
  if (r != BadHdr::kNone) {
    if (!ol.plain()) __builtin_trap();  // a refused header yields no metadata
    if (bad_hdr_name(r) == nullptr) __builtin_trap();
    return 0;
  }
  // What was accepted is consistent with the frame and with the negotiated features.
  if (ol.needs_csum()) {
    if (!nf.host_csum) __builtin_trap();
    if (uint32_t{ol.csum_start} + ol.csum_offset + 2 > len) __builtin_trap();
  }
  if (ol.gso != port::Offload::Gso::kNone) {
    if (!ol.needs_csum() || ol.gso_size == 0) __builtin_trap();
    if (ol.hdr_len > len || ol.gso_size > len - ol.hdr_len) __builtin_trap();
    if (ol.csum_start >= ol.hdr_len) __builtin_trap();
    if (ol.gso == port::Offload::Gso::kTcpV4 && !nf.host_tso4) __builtin_trap();
    if (ol.gso == port::Offload::Gso::kTcpV6 && !nf.host_tso6) __builtin_trap();
    if (ol.ecn && !nf.host_ecn) __builtin_trap();
  }
  // Round trip: a guest that takes every offload gets back a header that parses to the same.
  virtio::VirtioNetHdrV1 rx;
  namespace cap = port::OffloadCap;
  const uint32_t all = cap::kCsum | cap::kTso4 | cap::kTso6 | cap::kTsoEcn | cap::kUso;
  if (!make_rx_hdr(ol, all, &rx)) __builtin_trap();
  port::Offload back;
  if (parse_tx_hdr(rx, f, nf, &back) != BadHdr::kNone) __builtin_trap();
  if (std::memcmp(&back, &ol, sizeof ol) != 0) __builtin_trap();
  // With fewer capabilities the header is refused or carries only what the guest takes.
  if (make_rx_hdr(ol, caps, &rx)) {
    if ((rx.flags & virtio::kNetHdrFNeedsCsum) && !(caps & cap::kCsum)) __builtin_trap();
    if (rx.gso_type != 0 && !(caps & (cap::kTso4 | cap::kTso6 | cap::kUso))) __builtin_trap();
  }
  return 0;
}
