// SPDX-License-Identifier: MIT
// OffloadFallback: segmenting GSO frames and completing partial checksums into header copies
// that lead the input's own payload segments.
#include "switch/offload_fallback.h"

#include <algorithm>
#include <cstring>

#include "port/inet_csum.h"

namespace uvs::bridge {

namespace {

using port::Offload;
using port::OffloadError;

uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
void put16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, uint16_t(v >> 16));
  put16(p + 2, uint16_t(v));
}

constexpr uint8_t kTcpFin = 0x01, kTcpPsh = 0x08, kTcpCwr = 0x80;

bool gso_cap(const Offload& ol, uint32_t caps) {
  namespace cap = port::OffloadCap;
  if (ol.ecn && !(caps & cap::kTsoEcn)) return false;
  switch (ol.gso) {
    case Offload::Gso::kNone: return true;
    case Offload::Gso::kTcpV4: return caps & cap::kTso4;
    case Offload::Gso::kTcpV6: return caps & cap::kTso6;
    case Offload::Gso::kUdpL4: return caps & cap::kUso;
  }
  return false;
}

// IPv4 header checksum (RFC 791 3.1) over `ihl` bytes at `ip`, written in place.
void ipv4_header_csum(uint8_t* ip) {
  const size_t ihl = size_t(ip[0] & 0xf) * 4;
  put16(ip + 10, 0);
  port::CsumAcc acc;
  acc.add(ip, ihl);
  put16(ip + 10, uint16_t(~acc.sum16()));
}

}  // namespace

OffloadFallback::OffloadFallback()
    : bounce_(std::make_unique_for_overwrite<uint8_t[]>(port::kMaxFrameLen)) {}

port::OffloadError OffloadFallback::start(const port::Frame& f, uint32_t caps) noexcept {
  done_ = true;
  if (f.len > port::kMaxFrameLen) return OffloadError::kTooBig;
  in_ = f;
  if (f.iovcnt > kMaxInIov) {
    // Too many pieces to lead with header copies: flatten once (rare; vhost chains are short).
    bounce_iov_ = iovec{bounce_.get(), f.copy_out(0, bounce_.get(), f.len)};
    in_.iov = &bounce_iov_;
    in_.iovcnt = 1;
    in_.len = uint32_t(bounce_iov_.iov_len);
  }
  caps_ = caps;
  const size_t n = in_.copy_out(0, tmpl_, std::min<size_t>(in_.len, sizeof tmpl_));
  segmenting_ = !gso_cap(f.ol, caps);
  if (f.ol.gso != Offload::Gso::kNone) {
    const OffloadError e = port::parse_gso_layout(tmpl_, n, in_.len, f.ol, &l_);
    if (e != OffloadError::kNone) return e;
  } else {
    const OffloadError e = port::check_csum_offsets(f.ol, in_.len);
    if (e != OffloadError::kNone) return e;
    segmenting_ = false;
  }
  if (segmenting_) {
    pos_ = l_.hdr_len;
    seg_index_ = 0;
    if (l_.proto == 6) seq0_ = be32(tmpl_ + l_.l4 + 4);
    if (!l_.ipv6) id0_ = be16(tmpl_ + l_.l3 + 4);
  }
  done_ = false;
  return OffloadError::kNone;
}

size_t OffloadFallback::iovs_for(size_t from, size_t len) const noexcept {
  size_t cnt = 0;
  for (uint32_t k = 0; k < in_.iovcnt && len; ++k) {
    const size_t seg = in_.iov[k].iov_len;
    if (from >= seg) {
      from -= seg;
      continue;
    }
    const size_t take = std::min(seg - from, len);
    ++cnt;
    len -= take;
    from = 0;
  }
  return cnt;
}

bool OffloadFallback::add_payload(size_t from, size_t len) noexcept {
  for (uint32_t k = 0; k < in_.iovcnt && len; ++k) {
    const size_t seg = in_.iov[k].iov_len;
    if (from >= seg) {
      from -= seg;
      continue;
    }
    const size_t take = std::min(seg - from, len);
    if (iov_used_ == kIovScratch) return false;
    iov_[iov_used_++] = iovec{static_cast<uint8_t*>(in_.iov[k].iov_base) + from, take};
    len -= take;
    from = 0;
  }
  return len == 0;
}

// The L4 checksum of one datagram whose headers are hdr[0, hdr_len) and whose payload is input
// bytes [payload_from, +payload_len): the pseudo-header (RFC 9293 3.1 / RFC 8200 8.1) plus
// the L4 header and payload. Left partial (pseudo-header sum only, kNeedsCsum semantics) when
// the destination completes checksums itself.
void OffloadFallback::csum_l4(uint8_t* hdr, size_t hdr_len, size_t payload_from,
                              size_t payload_len, uint16_t l4_len) noexcept {
  uint8_t* field = hdr + l_.l4 + (l_.proto == 6 ? 16 : 6);
  port::CsumAcc acc;
  if (l_.ipv6) {
    acc.add(hdr + l_.l3 + 8, 32);
  } else {
    acc.add(hdr + l_.l3 + 12, 8);
  }
  acc.add_u16(l_.proto);
  acc.add_u16(l4_len);
  if (caps_ & port::OffloadCap::kCsum) {
    put16(field, acc.sum16());
    return;
  }
  put16(field, 0);
  acc.add(hdr + l_.l4, hdr_len - l_.l4);
  acc.add_iov(in_.iov, in_.iovcnt, payload_from, payload_len);
  put16(field, acc.finish());
}

std::span<const port::Frame> OffloadFallback::next() noexcept {
  if (done_) return {};
  iov_used_ = 0;
  if (!segmenting_) {
    done_ = true;
    return {out_, start_complete() == OffloadError::kNone ? 1u : 0u};
  }
  const size_t hlen = l_.hdr_len;
  const Offload& ol = in_.ol;
  size_t count = 0;
  while (count < kMaxOut) {
    const size_t seglen = std::min<size_t>(ol.gso_size, l_.end - pos_);
    if (iov_used_ + 1 + iovs_for(pos_, seglen) > kIovScratch) break;
    const bool first = seg_index_ == 0;
    const bool last = pos_ + seglen >= l_.end;
    uint8_t* h = hdr_[count];
    std::memcpy(h, tmpl_, hlen);
    if (l_.ipv6) {
      put16(h + l_.l3 + 4, uint16_t(hlen - l_.l3 - 40 + seglen));
    } else {
      put16(h + l_.l3 + 2, uint16_t(hlen - l_.l3 + seglen));
      put16(h + l_.l3 + 4, uint16_t(id0_ + seg_index_));
      ipv4_header_csum(h + l_.l3);
    }
    const uint16_t l4_len = uint16_t(hlen - l_.l4 + seglen);
    if (l_.proto == 6) {
      put32(h + l_.l4 + 4, seq0_ + uint32_t(pos_ - hlen));
      uint8_t& flags = h[l_.l4 + 13];
      if (!last) flags &= uint8_t(~(kTcpFin | kTcpPsh));
      if (!first) flags &= uint8_t(~kTcpCwr);
    } else {
      put16(h + l_.l4 + 4, l4_len);
    }
    csum_l4(h, hlen, pos_, seglen, l4_len);
    port::Frame& o = out_[count];
    o.iov = &iov_[iov_used_];
    iov_[iov_used_++] = iovec{h, hlen};
    add_payload(pos_, seglen);  // cannot fail: room was checked above
    o.iovcnt = uint32_t(&iov_[iov_used_] - o.iov);
    o.len = uint32_t(hlen + seglen);
    o.ol = Offload{};
    if (caps_ & port::OffloadCap::kCsum) {
      o.ol.flags = Offload::kNeedsCsum;
      o.ol.csum_start = l_.l4;
      o.ol.csum_offset = l_.proto == 6 ? 16 : 6;
    }
    ++count;
    ++seg_index_;
    pos_ += seglen;
    if (last) {
      done_ = true;
      break;
    }
  }
  return {out_, count};
}

port::OffloadError OffloadFallback::start_complete() noexcept {
  const Offload& ol = in_.ol;
  port::Frame& o = out_[0];
  if (ol.gso != Offload::Gso::kNone) {
    // The port takes the GSO frame whole but not a partial checksum: recompute the datagram's
    // own checksums rather than trusting the pseudo-header sum a sender put there for a length
    // it may have meant per segment.
    const size_t hlen = l_.hdr_len;
    uint8_t* h = hdr_[0];
    std::memcpy(h, tmpl_, hlen);
    if (!l_.ipv6) ipv4_header_csum(h + l_.l3);
    const uint32_t saved = caps_;
    caps_ &= ~port::OffloadCap::kCsum;
    csum_l4(h, hlen, hlen, l_.end - hlen, uint16_t(l_.end - l_.l4));
    caps_ = saved;
    o.iov = iov_;
    iov_[iov_used_++] = iovec{h, hlen};
    add_payload(hlen, l_.end - hlen);
    o.iovcnt = uint32_t(iov_used_);
    o.len = l_.end;
    o.ol = ol;
    o.ol.flags = 0;
    o.ol.csum_start = o.ol.csum_offset = 0;
    return OffloadError::kNone;
  }
  // virtio 1.2 5.1.6.2: the field at csum_start + csum_offset holds the pseudo-header sum; the
  // checksum is the inverted sum of everything from csum_start to the end of the frame.
  const size_t start = ol.csum_start;
  const size_t at = start + ol.csum_offset;
  const size_t head = at + 2;
  uint8_t* h;
  if (head <= sizeof hdr_[0]) {
    h = hdr_[0];
    std::memcpy(h, tmpl_, head);  // tmpl_ holds min(len, kMaxOffloadHdr) >= head bytes
  } else {
    // The field lies beyond the header scratch: work on a flat copy of the whole frame.
    if (in_.iov != &bounce_iov_) {
      bounce_iov_ = iovec{bounce_.get(), in_.copy_out(0, bounce_.get(), in_.len)};
      in_.iov = &bounce_iov_;
      in_.iovcnt = 1;
    }
    h = bounce_.get();
  }
  port::CsumAcc acc;
  acc.add(h + start, head - start);
  acc.add_iov(in_.iov, in_.iovcnt, head, in_.len - head);
  put16(h + at, acc.finish());
  o.iov = iov_;
  if (h == bounce_.get()) {
    iov_[iov_used_++] = iovec{h, in_.len};
  } else {
    iov_[iov_used_++] = iovec{h, head};
    add_payload(head, in_.len - head);
  }
  o.iovcnt = uint32_t(iov_used_);
  o.len = in_.len;
  o.ol = Offload{};
  return OffloadError::kNone;
}

}  // namespace uvs::bridge
