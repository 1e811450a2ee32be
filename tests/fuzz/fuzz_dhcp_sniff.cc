// SPDX-License-Identifier: MIT
// libFuzzer target: the NAT's DHCPACK sniffer over arbitrary frames.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "slirp-glue/dhcp_sniff.h"

using uvs::slirpglue::dhcp_ack_client;

// Input: one Ethernet frame. Copied into a buffer of exactly its size, so ASan sees any read past
// the frame's end.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> frame(data, data + size);
  uint8_t chaddr[6] = {};
  if (!dhcp_ack_client(frame.data(), frame.size(), chaddr)) return 0;
  // An ACK needs the Ethernet, IPv4 and UDP headers and the BOOTP fixed part, and chaddr is the
  // BOOTP field at offset 28.
  const size_t ihl = size_t(frame[14] & 0x0f) * 4;
  if (size < 14 + ihl + 8 + 240 || std::memcmp(chaddr, &frame[14 + ihl + 8 + 28], 6) != 0) {
    __builtin_trap();
  }
  return 0;
}
