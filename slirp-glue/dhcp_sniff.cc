// SPDX-License-Identifier: MIT
// DHCP sniffing: the BOOTP header and option walk (RFC 2131 section 2, RFC 2132 section 9.6).
#include "slirp-glue/dhcp_sniff.h"

#include <cstring>

namespace uvs::slirpglue {

bool dhcp_ack_client(const uint8_t* p, size_t len, uint8_t chaddr[6]) noexcept {
  // Ethernet + IPv4 + UDP headers + the fixed BOOTP fields and magic cookie (240 bytes).
  if (len < 14 + 20 + 8 + 240 || p[12] != 0x08 || p[13] != 0x00) return false;
  const uint8_t* ip = p + 14;
  const size_t ihl = size_t(ip[0] & 0x0f) * 4;
  if (ip[9] != 17 || ihl < 20 || len < 14 + ihl + 8 + 240) return false;
  const uint8_t* udp = ip + ihl;
  if (udp[0] != 0 || udp[1] != 67) return false;
  const uint8_t* bootp = udp + 8;
  if (bootp[0] != 2) return false;  // op: BOOTREPLY
  const uint8_t* end = p + len;
  for (const uint8_t* o = bootp + 240; o + 2 <= end && *o != 255;) {
    if (*o == 0) {  // pad
      ++o;
      continue;
    }
    if (o[0] == 53 && o[1] == 1 && o + 3 <= end) {
      if (o[2] != 5) return false;  // 5 = DHCPACK
      std::memcpy(chaddr, bootp + 28, 6);
      return true;
    }
    if (size_t(end - o) < 2 + size_t(o[1])) return false;  // option runs past the frame
    o += 2 + o[1];
  }
  return false;
}

}  // namespace uvs::slirpglue
