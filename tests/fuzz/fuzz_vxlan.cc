// SPDX-License-Identifier: MIT
// libFuzzer target: the VXLAN receive checks (vxlan::decapsulate), the inner-flow hash and the
// VTEP learning table, each against a plain reference.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "netback/host/vtep_table.h"
#include "netback/host/vxlan_wire.h"
#include "tests/fuzz/fuzz_reader.h"

using uvs::fuzz::FuzzReader;
using namespace uvs::netback;

namespace {

[[noreturn]] void fail() { __builtin_trap(); }

uint64_t mac_key(const uint8_t* m) {
  uint64_t k = 0;
  for (int i = 0; i < 6; ++i) k = k << 8 | m[i];
  return k;
}

}  // namespace

// Input: operations, each one byte then operands:
//   0: a datagram of u16 % 2048 bytes from the input and a VNI (u16 << 8 | u8): decapsulate
//      must agree with the RFC 7348 rules written out here; a frame it accepts is hashed, from
//      the input split into up to three segments, and the hash must not depend on the split;
//   1: learn MAC (6 bytes) behind VTEP u8 % 16 at time u8 (seconds, never decreasing);
//   2: look up MAC (6 bytes): the table answers the reference's VTEP or, after evictions,
//      nothing; never another VTEP.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzReader in{data, size};
  VtepTable table(300);
  std::map<uint64_t, std::pair<uint8_t, uint32_t>> ref;  // MAC -> (VTEP, last learned)
  uint32_t now = 0;
  while (in.n > 0) {
    switch (in.u8() % 3) {
      case 0: {
        const size_t len = in.u16() % 2048;
        const uint32_t vni = (uint32_t(in.u16()) << 8 | in.u8()) & vxlan::kMaxVni;
        std::vector<uint8_t> d = in.bytes(len);
        const vxlan::Decap got = vxlan::decapsulate(d.data(), d.size(), vni);
        vxlan::Decap want = vxlan::Decap::kOk;
        if (d.size() < 8 + 14) {
          want = vxlan::Decap::kTooShort;
        } else if (!(d[0] & 0x08)) {
          want = vxlan::Decap::kNoIFlag;
        } else if ((uint32_t(d[4]) << 16 | uint32_t(d[5]) << 8 | d[6]) != vni) {
          want = vxlan::Decap::kWrongVni;
        }
        if (got != want) fail();
        if (got != vxlan::Decap::kOk) break;
        const size_t flen = d.size() - 8;
        // Exact-size copies, so ASan sees any read past the frame.
        std::vector<uint8_t> whole(d.begin() + 8, d.end());
        iovec one{whole.data(), whole.size()};
        uvs::port::Frame f1{&one, 1, uint32_t(flen), {}};
        const size_t a = flen / 3, b = flen - flen / 3;
        std::vector<uint8_t> s0(whole.begin(), whole.begin() + long(a));
        std::vector<uint8_t> s1(whole.begin() + long(a), whole.begin() + long(b));
        std::vector<uint8_t> s2(whole.begin() + long(b), whole.end());
        iovec three[3] = {{s0.data(), s0.size()}, {s1.data(), s1.size()}, {s2.data(), s2.size()}};
        uvs::port::Frame f3{three, 3, uint32_t(flen), {}};
        if (vxlan::flow_hash(f1) != vxlan::flow_hash(f3)) fail();
        break;
      }
      case 1: {
        std::vector<uint8_t> mac = in.bytes(6);
        mac.resize(6);
        const uint8_t vtep = in.u8() % 16;
        now += in.u8() % 4;
        table.learn(mac.data(), vtep, now);
        ref[mac_key(mac.data())] = {vtep, now};
        break;
      }
      case 2: {
        std::vector<uint8_t> mac = in.bytes(6);
        mac.resize(6);
        const uint8_t got = table.lookup(mac.data(), now);
        auto it = ref.find(mac_key(mac.data()));
        const bool live = it != ref.end() && now - it->second.second <= 300;
        if (got != VtepTable::kNone && (!live || got != it->second.first)) fail();
        break;
      }
    }
  }
  return 0;
}
