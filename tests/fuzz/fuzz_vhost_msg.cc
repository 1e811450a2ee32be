// SPDX-License-Identifier: MIT
// libFuzzer target: the vhost-user message parser over arbitrary bytes and fd counts.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "netback/vhost/vhost_user_msg.h"

using namespace uvs::netback;

// Input: byte 0 = number of fds that "arrived" (0..15), the rest = header + payload.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint32_t fds = data[0] & 0x0f;
  std::span<const uint8_t> bytes(data + 1, size - 1);
  VhostUserMsg msg;
  MsgError e = parse_message(bytes, fds, &msg);
  if (e == MsgError::kOk) {
    // Invariants a successful parse promises the device.
    if (msg.hdr.size > vu::kMaxPayloadSize || msg.fd_count != fds ||
        bytes.size() != sizeof(vu::VhostUserHeader) + msg.hdr.size ||
        (msg.hdr.flags & vu::kFlagReply) != 0 || fds > vu::kMaxFds) {
      __builtin_trap();
    }
    if (msg.request() == vu::VhostUserRequest::kSetMemTable &&
        (msg.payload.mem.num_regions == 0 || msg.payload.mem.num_regions > vu::kMaxMemTableRegions ||
         msg.payload.mem.num_regions != fds)) {
      __builtin_trap();
    }
    (void)request_name(msg.request());
  } else {
    (void)to_string(e);
  }
  return 0;
}
