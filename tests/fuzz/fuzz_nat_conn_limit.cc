// SPDX-License-Identifier: MIT
// libFuzzer target: the NAT's connection limit over arbitrary guest frames and socket events.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "slirp-glue/nat_conn_limit.h"
#include "tests/fuzz/fuzz_reader.h"

using uvs::slirpglue::NatConnLimit;

// Input: [limit] then operations: [op][...]. op & 3: 0 a frame ([len16][bytes]) as slirp_input
// would get it, with a registration of a fresh fd when admitted; 1 an unregistration of fd
// [u8]; 2 a registration of fd [u8] outside any input (a listener or an accepted socket).
// The frames sit in buffers of exactly their size, so ASan sees any read past them; the
// flow records never exceed the limit.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uvs::fuzz::FuzzReader r{data, size};
  const uint32_t max = 1 + (r.u8() & 15);
  in_addr host{};
  host.s_addr = 0x0202000a;  // 10.0.2.2
  NatConnLimit limit(max, host);
  size_t open = 0;
  int next_fd = 3;
  for (int ops = 0; r.n > 0 && ops < 256; ++ops) {
    const uint8_t op = r.u8();
    if ((op & 3) == 0) {
      const size_t len = r.u16() % 2048;
      std::vector<uint8_t> frame = r.bytes(len);
      if (limit.admit(frame.data(), frame.size(), open)) {
        if (op & 4) {
          limit.on_register(next_fd++ & 255);
          ++open;
        }
        limit.input_done();
      }
    } else if ((op & 3) == 1) {
      limit.on_unregister(r.u8());
      if (open) --open;
    } else {
      limit.on_register(r.u8());
    }
    if (limit.flows() > max) __builtin_trap();
  }
  return 0;
}
