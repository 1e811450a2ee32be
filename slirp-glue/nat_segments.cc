// SPDX-License-Identifier: MIT
// NatSegments: the guests' MSS table, the raised SYN option, and libslirp's output as GSO frames
// or IPv4 fragments.
#include "slirp-glue/nat_segments.h"

#include <algorithm>
#include <cstring>

#include "port/inet_csum.h"
#include "port/offload.h"

namespace uvs::slirpglue {
namespace {

constexpr size_t kEth = 14;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kOptEnd = 0, kOptNop = 1, kOptMss = 2;

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
void put16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}

// Where the TCP header of an untagged IPv4/IPv6 frame starts and where its datagram ends.
struct TcpAt {
  size_t l3 = 0, l4 = 0, doff = 0, end = 0;
  bool v6 = false;
};

// Parses an untagged frame as TCP over IPv4 (not a fragment) or IPv6 (TCP as the first next
// header); false for anything else or anything that does not fit in `len`.
bool parse_tcp(const uint8_t* f, size_t len, TcpAt* t) {
  if (len < kEth + 20) return false;
  const uint16_t type = be16(f + 12);
  t->l3 = kEth;
  if (type == 0x0800) {
    const uint8_t* ip = f + kEth;
    const size_t ihl = size_t(ip[0] & 0xf) * 4;
    const size_t tot = be16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || kEth + tot > len) return false;
    if ((be16(ip + 6) & 0x3fff) != 0 || ip[9] != 6) return false;
    t->l4 = kEth + ihl;
    t->end = kEth + tot;
    t->v6 = false;
  } else if (type == 0x86dd) {
    if (len < kEth + 40) return false;
    const uint8_t* ip = f + kEth;
    if ((ip[0] >> 4) != 6 || ip[6] != 6) return false;
    t->l4 = kEth + 40;
    t->end = kEth + 40 + be16(ip + 4);
    if (t->end > len) return false;
    t->v6 = true;
  } else {
    return false;
  }
  if (t->l4 + 20 > t->end) return false;
  t->doff = size_t(f[t->l4 + 12] >> 4) * 4;
  return t->doff >= 20 && t->l4 + t->doff <= t->end;
}

// The address as IPv6 (IPv4 mapped, RFC 4291 2.5.5.2), so one key fits both families.
void addr16(uint8_t* out, const uint8_t* f, const TcpAt& t, bool src) {
  if (t.v6) {
    std::memcpy(out, f + t.l3 + (src ? 8 : 24), 16);
  } else {
    std::memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    std::memcpy(out + 12, f + t.l3 + (src ? 12 : 16), 4);
  }
}

// The largest MSS libslirp's MTU allows for the family: what a guest's option is raised to.
uint16_t large_mss(bool v6) { return uint16_t(kSlirpLargeMtu - (v6 ? 60 : 40)); }

}  // namespace

NatSegments::NatSegments(uint32_t mtu) : mtu_(mtu), table_(kEntries) {}

size_t NatSegments::hash(const Key& k) noexcept {
  // FNV-1a over the key's bytes: cheap, and the four-tuple spreads well enough for 4096 slots.
  uint64_t h = 1469598103934665603ull;
  const auto* p = reinterpret_cast<const uint8_t*>(&k);
  for (size_t i = 0; i < sizeof k; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return size_t(h ^ (h >> 29));
}

void NatSegments::remember(const Key& k, uint16_t mss) noexcept {
  const size_t base = hash(k);
  Entry* empty = nullptr;
  Entry* oldest = nullptr;
  for (size_t i = 0; i < kProbe; ++i) {
    Entry& e = table_[(base + i) & (kEntries - 1)];
    if (e.used && e.key == k) {
      e.mss = mss;
      e.stamp = ++clock_;
      return;
    }
    if (!e.used) {
      if (!empty) empty = &e;
    } else if (!oldest || int32_t(e.stamp - oldest->stamp) < 0) {
      oldest = &e;
    }
  }
  Entry* slot = empty ? empty : oldest;
  if (!empty) ++evictions_;
  slot->key = k;
  slot->mss = mss;
  slot->used = true;
  slot->stamp = ++clock_;
}

uint16_t NatSegments::mss_for(const Key& k, bool v6) const noexcept {
  const size_t base = hash(k);
  for (size_t i = 0; i < kProbe; ++i) {
    const Entry& e = table_[(base + i) & (kEntries - 1)];
    if (e.used && e.key == k) return e.mss;
  }
  // Forgotten (table full): the MSS a guest on this MTU would have advertised.
  return uint16_t(mtu_ - (v6 ? 60 : 40));
}

bool NatSegments::is_tcp_syn(const uint8_t* frame, size_t len) noexcept {
  TcpAt t;
  return parse_tcp(frame, len, &t) && (frame[t.l4 + 13] & kTcpSyn);
}

bool NatSegments::on_guest_syn(uint8_t* f, size_t len) noexcept {
  TcpAt t;
  if (!parse_tcp(f, len, &t) || !(f[t.l4 + 13] & kTcpSyn)) return false;
  Key k{};
  addr16(k.guest, f, t, true);
  addr16(k.remote, f, t, false);
  k.guest_port = be16(f + t.l4);
  k.remote_port = be16(f + t.l4 + 2);
  // RFC 9293 3.7.1: without the option the peer may send 536 (IPv4); RFC 8200 5: 1280 - 60.
  uint16_t mss = t.v6 ? 1220 : 536;
  uint8_t* opt_at = nullptr;
  for (size_t o = t.l4 + 20; o < t.l4 + t.doff;) {
    const uint8_t kind = f[o];
    if (kind == kOptEnd) break;
    if (kind == kOptNop) {
      ++o;
      continue;
    }
    if (o + 2 > t.l4 + t.doff) break;
    const size_t olen = f[o + 1];
    if (olen < 2 || o + olen > t.l4 + t.doff) break;
    if (kind == kOptMss && olen == 4) {
      mss = be16(f + o + 2);
      opt_at = f + o + 2;
    }
    o += olen;
  }
  remember(k, mss);
  const uint16_t raised = large_mss(t.v6);
  if (!opt_at || mss >= raised) return false;
  // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with the shared ones'-complement accumulator.
  uint8_t* csum = f + t.l4 + 16;
  port::CsumAcc acc;
  acc.add_u16(uint16_t(~be16(csum)));
  acc.add_u16(uint16_t(~mss));
  acc.add_u16(raised);
  put16(opt_at, raised);
  put16(csum, uint16_t(~acc.sum16()));
  return true;
}

NatSegments::Out NatSegments::start(const uint8_t* data, size_t len) noexcept {
  in_ = data;
  in_len_ = len;
  fragmenting_ = false;
  done_ = false;
  TcpAt t;
  if (parse_tcp(data, len, &t)) {
    return start_tcp(data, len, t.l3, t.l4, t.l4 + t.doff, t.end, t.v6);
  }
  if (len > kEth + mtu_ && be16(data + 12) == 0x0800) return start_fragments(data, len);
  iov_[0][0] = iovec{const_cast<uint8_t*>(data), len};
  out_[0] = port::Frame{iov_[0], 1, uint32_t(len)};
  return Out::kPlain;
}

NatSegments::Out NatSegments::start_tcp(const uint8_t* data, size_t len, size_t l3, size_t l4,
                                        size_t hlen, size_t end, bool v6) noexcept {
  TcpAt t;
  t.l3 = l3;
  t.l4 = l4;
  t.end = end;
  t.v6 = v6;
  Key k{};
  addr16(k.guest, data, t, false);
  addr16(k.remote, data, t, true);
  k.guest_port = be16(data + t.l4 + 2);
  k.remote_port = be16(data + t.l4);
  const size_t payload = t.end - hlen;
  const uint16_t mss = payload > 0 ? mss_for(k, t.v6) : 0;
  if (payload <= mss || hlen > kMaxHdr) {
    iov_[0][0] = iovec{const_cast<uint8_t*>(data), len};
    out_[0] = port::Frame{iov_[0], 1, uint32_t(len)};
    return Out::kPlain;
  }
  // A GSO frame as a virtio-net sender makes one (virtio 1.2 5.1.6.2): the checksum field holds
  // the pseudo-header sum over the whole datagram's L4 length, the rest is left to the port or
  // to the switch's segmentation.
  uint8_t* h = hdr_[0];
  std::memcpy(h, data, hlen);
  const uint16_t l4_len = uint16_t(t.end - t.l4);
  port::CsumAcc acc;
  if (t.v6) {
    acc.add(h + t.l3 + 8, 32);
  } else {
    acc.add(h + t.l3 + 12, 8);
  }
  acc.add_u16(6);
  acc.add_u16(l4_len);
  put16(h + t.l4 + 16, acc.sum16());
  iov_[0][0] = iovec{h, hlen};
  iov_[0][1] = iovec{const_cast<uint8_t*>(data) + hlen, payload};
  port::Frame& o = out_[0];
  o = port::Frame{iov_[0], 2, uint32_t(t.end)};
  o.ol.flags = port::Offload::kNeedsCsum;
  o.ol.gso = t.v6 ? port::Offload::Gso::kTcpV6 : port::Offload::Gso::kTcpV4;
  o.ol.gso_size = mss;
  o.ol.hdr_len = uint16_t(hlen);
  o.ol.csum_start = uint16_t(t.l4);
  o.ol.csum_offset = 16;
  return Out::kGso;
}

NatSegments::Out NatSegments::start_fragments(const uint8_t* data, size_t len) noexcept {
  const uint8_t* ip = data + kEth;
  const size_t ihl = size_t(ip[0] & 0xf) * 4;
  const size_t tot = be16(ip + 2);
  const uint16_t frag = be16(ip + 6);
  if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || kEth + tot > len || (frag & 0x1fff) != 0 ||
      tot <= mtu_) {
    iov_[0][0] = iovec{const_cast<uint8_t*>(data), len};
    out_[0] = port::Frame{iov_[0], 1, uint32_t(len)};
    return Out::kPlain;
  }
  // RFC 791 3.2: DF set means the datagram cannot be fragmented; ip_output drops it too.
  if ((frag & 0x4000) || ((mtu_ - ihl) & ~size_t(7)) < 8 || kEth + ihl > kMaxHdr) {
    done_ = true;
    return Out::kDropDf;
  }
  fragmenting_ = true;
  frag_pos_ = 0;
  frag_ihl_ = ihl;
  frag_total_ = tot - ihl;
  return Out::kFragments;
}

std::span<const port::Frame> NatSegments::next() noexcept {
  if (done_) return {};
  if (!fragmenting_) {
    done_ = true;
    return {out_, 1};
  }
  const size_t chunk = (mtu_ - frag_ihl_) & ~size_t(7);
  const size_t head = kEth + frag_ihl_;
  const uint16_t mf_in = be16(in_ + kEth + 6) & 0x2000;
  size_t n = 0;
  while (n < port::kMaxBurst && frag_pos_ < frag_total_) {
    const size_t take = std::min(chunk, frag_total_ - frag_pos_);
    const bool last = frag_pos_ + take >= frag_total_;
    uint8_t* h = hdr_[n];
    std::memcpy(h, in_, head);
    uint8_t* ip = h + kEth;
    put16(ip + 2, uint16_t(frag_ihl_ + take));
    put16(ip + 6, uint16_t((frag_pos_ >> 3) | (last ? mf_in : 0x2000)));
    put16(ip + 10, 0);
    port::CsumAcc acc;
    acc.add(ip, frag_ihl_);
    put16(ip + 10, uint16_t(~acc.sum16()));
    iov_[n][0] = iovec{h, head};
    iov_[n][1] = iovec{const_cast<uint8_t*>(in_) + head + frag_pos_, take};
    out_[n] = port::Frame{iov_[n], 2, uint32_t(head + take)};
    frag_pos_ += take;
    ++n;
  }
  if (frag_pos_ >= frag_total_) done_ = true;
  return {out_, n};
}

}  // namespace uvs::slirpglue
