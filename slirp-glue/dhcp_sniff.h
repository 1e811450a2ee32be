// SPDX-License-Identifier: MIT
// DHCP sniffing: recognising the DHCPACKs libslirp sends, so the NAT can count leases.
#pragma once

#include <cstddef>
#include <cstdint>

namespace uvs::slirpglue {

/// True when `frame` (Ethernet, `len` bytes) is a DHCPACK (RFC 2131: a BOOTREPLY from UDP port
/// 67 over IPv4 whose option 53, message type, is 5); then `chaddr` gets the client hardware
/// address. Reads only inside [frame, frame + len). Pure.
bool dhcp_ack_client(const uint8_t* frame, size_t len, uint8_t chaddr[6]) noexcept;

}  // namespace uvs::slirpglue
