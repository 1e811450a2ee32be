// SPDX-License-Identifier: MIT
// VXLAN wire format (header, receive checks, flow hash) and the VTEP learning table.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "netback/host/vtep_table.h"
#include "netback/host/vxlan_wire.h"

using namespace uvs::netback;

namespace {

std::vector<uint8_t> datagram(uint8_t flags, uint32_t vni, size_t inner_len) {
  std::vector<uint8_t> d(vxlan::kHeaderLen + inner_len, 0);
  d[0] = flags;
  d[4] = uint8_t(vni >> 16);
  d[5] = uint8_t(vni >> 8);
  d[6] = uint8_t(vni);
  return d;
}

uint32_t hash_of(const std::vector<uint8_t>& frame) {
  iovec iov{const_cast<uint8_t*>(frame.data()), frame.size()};
  uvs::port::Frame f;
  f.iov = &iov;
  f.iovcnt = 1;
  f.len = static_cast<uint32_t>(frame.size());
  return vxlan::flow_hash(f);
}

// An Ethernet + IPv4 + TCP frame of the flow (sport -> dport).
std::vector<uint8_t> tcp4(uint16_t sport, uint16_t dport, uint8_t payload_byte) {
  std::vector<uint8_t> f(14 + 20 + 20 + 10, 0);
  const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
  std::memcpy(f.data(), macs, 12);
  f[12] = 0x08;
  f[14] = 0x45;
  f[14 + 9] = 6;
  f[14 + 12] = 10, f[14 + 15] = 1, f[14 + 16] = 10, f[14 + 19] = 2;
  f[34] = uint8_t(sport >> 8), f[35] = uint8_t(sport);
  f[36] = uint8_t(dport >> 8), f[37] = uint8_t(dport);
  f.back() = payload_byte;
  return f;
}

}  // namespace

TEST_CASE("vxlan header: written with the I flag and the VNI, reserved bits zero") {
  uint8_t h[8];
  std::memset(h, 0xaa, sizeof h);
  vxlan::write_header(h, 0x123456);
  const uint8_t want[8] = {0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0};
  CHECK(std::memcmp(h, want, 8) == 0);
}

TEST_CASE("vxlan decapsulate: VNI, I flag and length checks") {
  auto ok = datagram(0x08, 42, 14);
  CHECK(vxlan::decapsulate(ok.data(), ok.size(), 42) == vxlan::Decap::kOk);
  // Reserved bits are ignored on receipt (RFC 7348 section 5).
  auto reserved = datagram(0xff, 42, 60);
  reserved[7] = 0xff;
  reserved[1] = 0x12;
  CHECK(vxlan::decapsulate(reserved.data(), reserved.size(), 42) == vxlan::Decap::kOk);
  CHECK(vxlan::decapsulate(ok.data(), ok.size(), 43) == vxlan::Decap::kWrongVni);
  auto no_i = datagram(0x00, 42, 14);
  CHECK(vxlan::decapsulate(no_i.data(), no_i.size(), 42) == vxlan::Decap::kNoIFlag);
  auto short_inner = datagram(0x08, 42, 13);
  CHECK(vxlan::decapsulate(short_inner.data(), short_inner.size(), 42) == vxlan::Decap::kTooShort);
  CHECK(vxlan::decapsulate(ok.data(), 0, 42) == vxlan::Decap::kTooShort);
  auto top = datagram(0x08, 0xffffff, 14);
  CHECK(vxlan::decapsulate(top.data(), top.size(), 0xffffff) == vxlan::Decap::kOk);
}

TEST_CASE("vxlan flow hash: one flow hashes alike, flows spread") {
  CHECK(hash_of(tcp4(40000, 5201, 1)) == hash_of(tcp4(40000, 5201, 2)));
  CHECK(hash_of(tcp4(40000, 5201, 1)) != hash_of(tcp4(40001, 5201, 1)));
  std::vector<bool> bucket(16);
  for (uint16_t p = 0; p < 256; ++p) bucket[hash_of(tcp4(40000 + p, 5201, 0)) % 16] = true;
  for (size_t i = 0; i < bucket.size(); ++i) CHECK(bucket[i]);
  // Short and odd frames never read past their end.
  std::vector<uint8_t> tiny(3, 0xff);
  (void)hash_of(tiny);
  auto trunc = tcp4(1, 2, 0);
  trunc.resize(14 + 20 + 2);
  (void)hash_of(trunc);
}

TEST_CASE("vtep table: learn, move, expire, forget") {
  VtepTable t(300);
  const uint8_t a[6] = {2, 0, 0, 0, 0, 1};
  const uint8_t b[6] = {2, 0, 0, 0, 0, 2};
  CHECK(t.lookup(a, 10) == VtepTable::kNone);
  t.learn(a, 3, 10);
  t.learn(b, 1, 10);
  CHECK(t.lookup(a, 10) == 3);
  CHECK(t.lookup(b, 20) == 1);
  t.learn(a, 5, 20);  // the station moved to another VTEP
  CHECK(t.lookup(a, 20) == 5);
  CHECK(t.live(20) == 2);
  CHECK(t.lookup(b, 311) == VtepTable::kNone);  // last seen at 10, aged 300 s
  CHECK(t.lookup(a, 311) == 5);
  CHECK(t.live(311) == 1);
  t.forget_vtep(5);
  CHECK(t.lookup(a, 311) == VtepTable::kNone);
}

TEST_CASE("vtep table: a full table replaces old entries and never answers wrongly") {
  VtepTable t(300);
  uint8_t mac[6] = {2, 0, 0, 0, 0, 0};
  for (uint32_t i = 0; i < 3 * VtepTable::kSlots; ++i) {
    mac[3] = uint8_t(i >> 16), mac[4] = uint8_t(i >> 8), mac[5] = uint8_t(i);
    t.learn(mac, uint8_t(i % 16), i / 1000);
  }
  size_t found = 0;
  for (uint32_t i = 0; i < 3 * VtepTable::kSlots; ++i) {
    mac[3] = uint8_t(i >> 16), mac[4] = uint8_t(i >> 8), mac[5] = uint8_t(i);
    const uint8_t v = t.lookup(mac, 13);
    if (v == VtepTable::kNone) continue;
    CHECK(v == i % 16);
    ++found;
  }
  CHECK(found > VtepTable::kSlots / 2);
  CHECK(found <= VtepTable::kSlots);
  // The newest entries survive.
  mac[3] = 0, mac[4] = uint8_t((3 * VtepTable::kSlots - 1) >> 8), mac[5] = uint8_t(3 * VtepTable::kSlots - 1);
  CHECK(t.lookup(mac, 13) == (3 * VtepTable::kSlots - 1) % 16);
}
