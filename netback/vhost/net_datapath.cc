// SPDX-License-Identifier: MIT
// virtio-net TX/RX bursts: header strip/insert, scatter copies, mergeable RX buffers.
#include "netback/vhost/net_datapath.h"

#include <cstddef>
#include <cstring>

#include "netback/common/virtio_defs.h"

namespace uvs::netback {

namespace {

using port::Frame;

// vhost-user.rst "Migration": the last byte logged must fall within the log size.
constexpr const char* kLogOverflow = "a written guest page lies outside the dirty log";

// Removes the first `skip` bytes from iov[0, cnt) in place; returns the new first index.
uint32_t skip_bytes(iovec* iov, uint32_t cnt, size_t skip) noexcept {
  uint32_t i = 0;
  while (i < cnt && skip > 0) {
    if (skip >= iov[i].iov_len) {
      skip -= iov[i].iov_len;
      ++i;
    } else {
      iov[i].iov_base = static_cast<uint8_t*>(iov[i].iov_base) + skip;
      iov[i].iov_len -= skip;
      skip = 0;
    }
  }
  return i;
}

// The stores of one RX burst. A store into a guest buffer is a read-for-ownership miss on a
// line the driver's core owns; made as soon as each chain was walked, they filled the store
// buffer and the next chain's walk waited for them to drain. Small ones (headers, short frames)
// are therefore recorded and run together once the burst's chains are walked, as DPDK's vhost
// enqueue batches its small copies; large ones are bandwidth-bound and go at once. Every store
// still goes through the ring's GuestWriter, so the dirty log sees it. Recorded stores keep
// their order, and no recorded store overlaps a later immediate one (the header, the payload
// and num_buffers are distinct bytes; a frame that does not fit drops its records, drop()).
class RxStores {
 public:
  RxStores(const GuestWriter& out, RxScratch& s) noexcept : out_(out), s_(s) { s_.ncopies = 0; }

  void copy(uint8_t* host, uint64_t gpa, const uint8_t* src, size_t n) noexcept {
    if (n > kSmallCopy) {
      out_.copy(host, gpa, src, n);
      return;
    }
    if (s_.ncopies == RxScratch::kMaxCopies) run();
    s_.copies[s_.ncopies++] = {host, gpa, src, static_cast<uint32_t>(n)};
  }
  // Runs the recorded stores, in order.
  void run() noexcept {
    for (uint32_t k = 0; k < s_.ncopies; ++k) {
      const RxScratch::Copy& c = s_.copies[k];
      out_.copy(c.host, c.gpa, c.src, c.len);
    }
    s_.ncopies = 0;
    ++runs_;
  }
  // A header source slot for the next frame (runs the records first when all are taken, so no
  // pending store still reads the slot handed out again).
  uint32_t take_slot() noexcept {
    if (slots_ == port::kMaxBurst) {
      run();
      slots_ = 0;
    }
    return slots_++;
  }
  // Where a frame starts: drop() forgets what was recorded after it.
  struct Mark {
    uint32_t ncopies, runs;
  };
  Mark mark() const noexcept { return {s_.ncopies, runs_}; }
  void drop(Mark m) noexcept { s_.ncopies = m.runs == runs_ ? m.ncopies : 0; }

 private:
  // DPDK's vhost library batches copies up to 256 bytes (MAX_BATCH_LEN).
  static constexpr size_t kSmallCopy = 256;
  const GuestWriter& out_;
  RxScratch& s_;
  uint32_t slots_ = 0;
  uint32_t runs_ = 0;
};

// A write position in a guest scatter list: each segment's host pointer and guest-physical
// address, written through the burst's RxStores.
struct DstCursor {
  const iovec* iov;
  const uint64_t* gpa;
  uint32_t cnt;
  RxStores& out;
  uint32_t i = 0;
  size_t off = 0;

  // Copies up to n bytes from src; returns bytes copied.
  size_t write(const uint8_t* src, size_t n) noexcept {
    size_t done = 0;
    while (done < n && i < cnt) {
      size_t seg = iov[i].iov_len - off;
      size_t take = seg < n - done ? seg : n - done;
      out.copy(static_cast<uint8_t*>(iov[i].iov_base) + off, gpa[i] + off, src + done, take);
      done += take;
      off += take;
      if (off == iov[i].iov_len) {
        ++i;
        off = 0;
      }
    }
    return done;
  }
};

// A read position in a frame's segments.
struct SrcCursor {
  const Frame& f;
  uint32_t i = 0;
  size_t off = 0;

  // Copies up to n bytes into dst; returns bytes copied.
  size_t copy_into(DstCursor& dst, size_t n) noexcept {
    size_t done = 0;
    while (done < n && i < f.iovcnt) {
      size_t seg = f.iov[i].iov_len - off;
      if (seg == 0) {
        ++i;
        off = 0;
        continue;
      }
      size_t want = seg < n - done ? seg : n - done;
      size_t got = dst.write(static_cast<const uint8_t*>(f.iov[i].iov_base) + off, want);
      done += got;
      off += got;
      if (off == f.iov[i].iov_len) {
        ++i;
        off = 0;
      }
      if (got < want) break;  // destination full
    }
    return done;
  }
};

// Copies the first `n` bytes of iov[0, cnt) into dst (the chain holds at least n readable bytes).
void copy_head(const iovec* iov, uint32_t cnt, void* dst, size_t n) noexcept {
  auto* out = static_cast<uint8_t*>(dst);
  for (uint32_t i = 0; i < cnt && n > 0; ++i) {
    size_t take = iov[i].iov_len < n ? iov[i].iov_len : n;
    std::memcpy(out, iov[i].iov_base, take);
    out += take;
    n -= take;
  }
}

// Offload counters of one accepted guest frame.
void count_in(const port::Offload& ol, NetQueueStats& st) noexcept {
  using G = port::Offload::Gso;
  if (ol.flags & port::Offload::kNeedsCsum) ++st.in_csum;
  switch (ol.gso) {
    case G::kNone: return;
    case G::kTcpV4: ++st.in_tso4; break;
    case G::kTcpV6: ++st.in_tso6; break;
    case G::kUdpL4: ++st.in_uso; break;
  }
  if (ol.ecn) ++st.in_ecn;
}

// Offload counters of one delivered frame, from the header the guest got.
void count_out(const virtio::VirtioNetHdrV1& h, NetQueueStats& st) noexcept {
  if (h.flags & virtio::kNetHdrFNeedsCsum) ++st.out_csum;
  if (h.flags & virtio::kNetHdrFDataValid) ++st.out_data_valid;
  switch (h.gso_type & static_cast<uint8_t>(~virtio::kNetHdrGsoEcn)) {
    case virtio::kNetHdrGsoNone: return;
    case virtio::kNetHdrGsoTcpV4: ++st.out_tso4; break;
    case virtio::kNetHdrGsoTcpV6: ++st.out_tso6; break;
    case virtio::kNetHdrGsoUdpL4: ++st.out_uso; break;
    default: break;
  }
  if (h.gso_type & virtio::kNetHdrGsoEcn) ++st.out_ecn;
}

}  // namespace

template <typename Ring>
BurstResult net_tx_burst(Ring& vq, uint32_t hdr_len, const NetOffloadFeatures& feat,
                         port::Port& from, port::FrameSink* sink, TxScratch& s,
                         NetQueueStats& stats) noexcept {
  BurstResult res;
  uint32_t n = 0;
  uint64_t bytes = 0;
  // Each pop (good or dropped) counts toward the burst, so a ring full of bad chains still
  // yields to the loop after kMaxBurst of them.
  while (res.count < port::kMaxBurst) {
    iovec* iov = s.iov + n * kTxMaxSegs;
    VirtqChain c;
    VirtqError e = vq.pop(iov, kTxMaxSegs, &c);
    if (e == VirtqError::kEmpty) break;
    if (is_fatal(e)) {
      res.error = e;
      return res;
    }
    ++res.count;
    if (e != VirtqError::kOk) {
      ++stats.in_drop_bad_chain;
      vq.push(c.ref(), 0);
      continue;
    }
    if (c.readable_len < hdr_len + port::kMinFrameLen) {
      ++stats.in_drop_too_short;
      vq.push(c.ref(), 0);
      continue;
    }
    uint64_t len = c.readable_len - hdr_len;
    if (len > port::kMaxFrameLen) {
      ++stats.in_drop_too_big;
      vq.push(c.ref(), 0);
      continue;
    }
    // Only the device-readable part is the packet; writable descriptors in a TX chain carry
    // nothing for us and are ignored. A 10-byte legacy header leaves num_buffers zero.
    virtio::VirtioNetHdrV1 h{};
    copy_head(iov, c.readable, &h, hdr_len < sizeof h ? hdr_len : sizeof h);
    uint32_t first = skip_bytes(iov, c.readable, hdr_len);
    Frame& f = s.frames[n];
    f = Frame{iov + first, c.readable - first, static_cast<uint32_t>(len)};
    BadHdr bad = parse_tx_hdr(h, f, feat, &f.ol);
    if (bad != BadHdr::kNone) [[unlikely]] {
      ++stats.in_drop_bad_hdr[static_cast<uint32_t>(bad)];
      ++res.bad_hdrs;
      res.last_bad_hdr = bad;
      vq.push(c.ref(), 0);
      continue;
    }
    s.refs[n] = c.ref();
    bytes += len;
    ++n;
  }
  if (n > 0) {
    if (sink) {
      sink->receive_burst(from, {s.frames, n});
      for (uint32_t k = 0; k < n; ++k) {
        if (!s.frames[k].ol.plain()) count_in(s.frames[k].ol, stats);
      }
      stats.in_frames += n;
      stats.in_bytes += bytes;
      ++stats.tx_bursts;
    } else {
      stats.in_drop_no_sink += n;
    }
    // The frames lent guest memory to the sink; only now may the guest reuse the buffers.
    for (uint32_t k = 0; k < n; ++k) vq.push(s.refs[k], 0);
  }
  res.notify = vq.flush();
  vq.flush_log();
  if (vq.log_overflowed()) [[unlikely]] res.reason = kLogOverflow;
  return res;
}

template <typename Ring>
BurstResult net_rx_burst(Ring& vq, uint32_t hdr_len, bool mergeable, uint32_t guest_caps,
                         std::span<const Frame> frames, RxScratch& s,
                         NetQueueStats& stats) noexcept {
  BurstResult res;
  const uint32_t max_buffers = mergeable ? kRxMaxChainsPerFrame : 1;
  RxStores out(vq.buffer_writer(), s);
  size_t i = 0;
  bool out_of_buffers = false;

  for (; i < frames.size(); ++i) {
    const Frame& f = frames[i];
    const uint32_t slot = out.take_slot();
    virtio::VirtioNetHdrV1& h = s.hdrs[slot];
    if (!make_rx_hdr(f.ol, guest_caps, &h)) [[unlikely]] {
      ++stats.out_drop_offload;
      continue;  // counted as taken: this guest can never take it
    }
    const RxStores::Mark stores_mark = out.mark();
    const uint64_t need = uint64_t{hdr_len} + f.len;
    uint32_t npending = 0;   // chains popped for this frame (good and dropped)
    uint32_t nbuffers = 0;   // chains holding frame bytes
    uint64_t written = 0;    // header + frame bytes copied so far
    uint32_t first_cnt = 0;
    bool too_big = false;
    const auto mark = vq.avail_mark();
    SrcCursor src{f};

    while (written < need) {
      if (npending == kRxMaxChainsPerFrame || nbuffers == max_buffers) {
        too_big = true;
        break;
      }
      VirtqChain c;
      VirtqError e = vq.pop(s.iov, kRxMaxSegs, &c, s.gpa);
      if (e == VirtqError::kEmpty) {
        out_of_buffers = true;
        break;
      }
      if (is_fatal(e)) {
        res.error = e;
        return res;  // nothing flushed: the port breaks anyway
      }
      if (e != VirtqError::kOk) {
        // Returned unused together with the frame (or un-popped with it), so the un-pop
        // arithmetic below stays exact.
        s.pending[npending++] = {c.ref(), 0, false};
        continue;
      }
      if (c.readable != 0 || c.writable_len == 0) {
        // §5.1.6.3: receive buffers are device-writable; anything else is a broken driver.
        res.reason = "RX descriptor chain has device-readable buffers";
        return res;
      }
      const iovec* wiov = s.iov + c.readable;
      const uint64_t* wgpa = s.gpa + c.readable;
      DstCursor dst{wiov, wgpa, c.writable, out};
      uint64_t in_chain = 0;
      if (nbuffers == 0) {
        if (c.writable_len < hdr_len) {
          res.reason = "RX buffer smaller than the virtio-net header";
          return res;
        }
        // Keep the first chain's segments: num_buffers is patched once the count is known.
        first_cnt = c.writable;
        std::memcpy(s.first_iov, wiov, sizeof(iovec) * c.writable);
        std::memcpy(s.first_gpa, wgpa, sizeof(uint64_t) * c.writable);
        // A 10-byte legacy header is the 12-byte one without num_buffers.
        dst.write(reinterpret_cast<const uint8_t*>(&h), hdr_len);
        in_chain = hdr_len;
      }
      in_chain += src.copy_into(dst, need - written - in_chain);
      written += in_chain;
      s.pending[npending++] = {c.ref(), static_cast<uint32_t>(in_chain), true};
      ++nbuffers;
      if (!mergeable && written < need) {
        too_big = true;
        break;
      }
    }

    if (out_of_buffers || too_big) {
      // Give every chain popped for this frame back to the guest untouched (as far as it can
      // tell: used entries were not pushed). The bytes we already copied are harmless.
      vq.rewind(mark);
      out.drop(stores_mark);
      if (out_of_buffers) break;
      ++stats.out_drop_too_big;
      continue;  // counted as taken: it can never fit
    }

    if (nbuffers > 1 && hdr_len == virtio::kNetHdrLen) {
      uint16_t& nb = s.num_buffers[slot];
      nb = static_cast<uint16_t>(nbuffers);
      DstCursor hdr{s.first_iov, s.first_gpa, first_cnt, out};
      // Skip to num_buffers (offset 10) and rewrite it; the header may span segments.
      size_t off = offsetof(virtio::VirtioNetHdrV1, num_buffers);
      while (off > 0 && hdr.i < hdr.cnt) {
        size_t seg = hdr.iov[hdr.i].iov_len - hdr.off;
        size_t take = seg < off ? seg : off;
        hdr.off += take;
        off -= take;
        if (hdr.off == hdr.iov[hdr.i].iov_len) {
          ++hdr.i;
          hdr.off = 0;
        }
      }
      hdr.write(reinterpret_cast<const uint8_t*>(&nb), sizeof nb);
    }
    for (uint32_t k = 0; k < npending; ++k) {
      vq.push(s.pending[k].ref, s.pending[k].len);
      if (!s.pending[k].counts) ++stats.out_drop_bad_chain;
    }
    ++stats.out_frames;
    stats.out_bytes += f.len;
    if (h.flags != 0 || h.gso_type != 0) count_out(h, stats);
  }

  // Before flush(): its release store publishes these bytes with the used elements.
  out.run();
  res.count = i;
  res.notify = vq.flush();
  vq.flush_log();
  if (vq.log_overflowed()) [[unlikely]] res.reason = kLogOverflow;
  return res;
}

template BurstResult net_tx_burst<Virtq>(Virtq&, uint32_t, const NetOffloadFeatures&, port::Port&,
                                        port::FrameSink*, TxScratch&, NetQueueStats&) noexcept;
template BurstResult net_rx_burst<Virtq>(Virtq&, uint32_t, bool, uint32_t,
                                        std::span<const port::Frame>, RxScratch&,
                                        NetQueueStats&) noexcept;
template BurstResult net_tx_burst<PackedVirtq>(PackedVirtq&, uint32_t, const NetOffloadFeatures&,
                                              port::Port&, port::FrameSink*, TxScratch&,
                                              NetQueueStats&) noexcept;
template BurstResult net_rx_burst<PackedVirtq>(PackedVirtq&, uint32_t, bool, uint32_t,
                                              std::span<const port::Frame>, RxScratch&,
                                              NetQueueStats&) noexcept;

}  // namespace uvs::netback
