// SPDX-License-Identifier: MIT
// Capture: the port-thread tap (filter, copy, count) and the writer thread that drains to pcap.
#include "switch/capture.h"

#include <pcap/pcap.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>

#include "port/inet_csum.h"
#include "port/offload_layout.h"

namespace uvs::bridge {
namespace {

std::atomic<unsigned> g_capture_seq{0};

// A frame with a partial checksum (virtio 1.2 §5.1.6.2: the field at csum_start + csum_offset
// holds the pseudo-header sum, the rest from csum_start to the end is still to be added) gets its
// checksum completed in the capture's copy `dst` of `caplen` bytes, as the receiver will see it,
// so that a reader validating checksums finds them right. A GSO frame is completed as the one
// large datagram it is: Linux's pseudo-header sum covers the whole length, as tcpdump on a
// Linux interface with TSO shows it. The original frame is not touched. Nothing is done when
// the field lies beyond the snaplen or the offsets do not fit the frame.
void complete_csum_in_copy(const port::Frame& f, uint8_t* dst, uint32_t caplen) noexcept {
  if (port::check_csum_offsets(f.ol, f.len) != port::OffloadError::kNone) return;
  const size_t start = f.ol.csum_start;
  const size_t at = start + f.ol.csum_offset;
  if (at + 2 > caplen) return;
  port::CsumAcc acc;
  if (caplen == f.len) {
    acc.add(dst + start, f.len - start);  // the copy is whole: sum it where it is hot
  } else {
    acc.add(dst + start, caplen - start);
    acc.add_iov(f.iov, f.iovcnt, caplen, f.len - caplen);
  }
  const uint16_t c = acc.finish();
  dst[at] = uint8_t(c >> 8);
  dst[at + 1] = uint8_t(c);
}

}  // namespace

Capture::Capture(CaptureOptions opts) : opts_(std::move(opts)), queue_(opts_.queue_bytes) {}

Capture::~Capture() {
  stop();
  if (prog_) pcap_freecode(prog_.get());
}

std::unique_ptr<Capture> Capture::create(CaptureOptions opts, std::string* error) {
  const std::string who = "capture of " + opts.port + ": ";
  int fd = opts.stream_fd;
  opts.stream_fd = -1;  // the sink owns it from here on
  if (opts.snaplen == 0) opts.snaplen = 1;
  std::unique_ptr<Capture> c(new Capture(std::move(opts)));
  if (!c->opts_.filter.empty()) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, int(c->opts_.snaplen));
    if (!dead) {
      if (fd >= 0) ::close(fd);
      *error = who + "libpcap: cannot create a handle to compile the filter";
      return nullptr;
    }
    c->prog_ = std::make_unique<bpf_program>();
    if (pcap_compile(dead, c->prog_.get(), c->opts_.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) !=
        0) {
      *error = who + "bad filter '" + c->opts_.filter + "': " + pcap_geterr(dead);
      pcap_close(dead);
      c->prog_.reset();
      if (fd >= 0) ::close(fd);
      return nullptr;
    }
    pcap_close(dead);
    c->scratch_ = std::make_unique<uint8_t[]>(port::kMaxFrameLen);
  }
  std::string err;
  if (fd >= 0) {
    c->sink_ = PcapSink::open_fd(fd, c->opts_.snaplen, &c->stop_, &err);
  } else {
    c->sink_ = PcapSink::open_file(c->opts_.path, c->opts_.snaplen, c->opts_.max_bytes,
                                   c->opts_.max_files, &err, c->opts_.mode);
  }
  if (!c->sink_) {
    *error = who + err;
    return nullptr;
  }
  c->files_.add(c->sink_->files());
  c->writer_ = std::thread([p = c.get()] { p->writer_main(); });
  return c;
}

uint8_t* Capture::record(const port::Frame& f, int64_t ts_ns, size_t& filtered,
                         size_t& dropped) noexcept {
  // The filter sees the whole frame, as a kernel socket filter would: a snaplen must not
  // change which frames match.
  const uint8_t* whole = nullptr;
  if (f.iovcnt == 1) whole = static_cast<const uint8_t*>(f.iov[0].iov_base);
  if (prog_) {
    uint32_t have = f.len;
    if (!whole) {
      have = uint32_t(f.copy_out(0, scratch_.get(), std::min<size_t>(f.len, port::kMaxFrameLen)));
      whole = scratch_.get();
    }
    pcap_pkthdr h{};
    h.caplen = have;
    h.len = f.len;
    if (pcap_offline_filter(prog_.get(), &h, whole) == 0) {
      ++filtered;
      return nullptr;
    }
  }
  const uint32_t caplen = std::min(f.len, opts_.snaplen);
  uint8_t* dst = queue_.reserve(caplen);
  if (!dst) {
    ++dropped;
    return nullptr;
  }
  if (whole) {
    std::memcpy(dst, whole, caplen);
  } else {
    f.copy_out(0, dst, caplen);
  }
  if (f.ol.needs_csum()) [[unlikely]] complete_csum_in_copy(f, dst, caplen);
  queue_.commit(CaptureRecord{ts_ns, caplen, f.len});
  return dst;
}

void Capture::tap(std::span<const port::Frame> frames, int64_t ts_ns) noexcept {
  size_t matched = 0, filtered = 0, dropped = 0;
  for (const port::Frame& f : frames) {
    if (record(f, ts_ns, filtered, dropped)) ++matched;
  }
  // Inside an open egress step the records wait for settle(), which publishes them all.
  if (matched && !holding_) queue_.publish();
  if (matched) matched_.add(matched);
  if (filtered) filtered_out_.add(filtered);
  if (dropped) dropped_.add(dropped);
}

bool Capture::tap_offered(std::span<const port::Frame> frames, int64_t ts_ns) noexcept {
  if (holding_) return false;
  holding_ = true;
  size_t filtered = 0, dropped = 0;
  offered_ = std::min(frames.size(), port::kMaxBurst);
  for (size_t i = 0; i < offered_; ++i) offered_rec_[i] = record(frames[i], ts_ns, filtered, dropped);
  if (filtered) filtered_out_.add(filtered);
  if (dropped) dropped_.add(dropped);
  return true;
}

void Capture::settle(size_t sent) noexcept {
  size_t kept = 0;
  for (size_t i = 0; i < offered_; ++i) {
    if (!offered_rec_[i]) continue;
    if (i < sent) {
      ++kept;
    } else {
      queue_.cancel(offered_rec_[i]);  // the port refused it: it never crossed the port
    }
  }
  if (kept) matched_.add(kept);
  holding_ = false;
  offered_ = 0;
  queue_.publish();
}

size_t Capture::drain() {
  size_t n = 0;
  CaptureRecord rec;
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
  const bool ok = !failed_.load(std::memory_order_relaxed);
  while (queue_.front(&rec, &data)) {
    if (rec.len == 0) {  // cancelled: offered to a port that did not take it
      queue_.pop();
      continue;
    }
    // After a write error the records are still consumed, so the queue does not stay full
    // until someone stops the capture.
    if (ok && !sink_->write(rec.ts_ns, rec.caplen, rec.len, data)) break;
    queue_.pop();
    ++n;
    bytes += rec.caplen;
    // Hand space back in slices, so a long drain does not starve the producer.
    if ((n & 255) == 0) queue_.release();
  }
  queue_.release();
  if (n && ok) {
    written_.add(n);
    bytes_written_.add(bytes);
    const uint64_t files = sink_->files();
    if (files > files_.get()) files_.add(files - files_.get());
  }
  if (ok && (n || !sink_->error().empty()) && !sink_->flush()) {
    {
      std::lock_guard<std::mutex> lk(error_mu_);
      error_ = sink_->is_stream() ? "stream closed: " + sink_->error()
                                  : "write failed: " + sink_->error();
    }
    failed_.store(true, std::memory_order_release);
  }
  return n;
}

void Capture::writer_main() {
  const unsigned seq = g_capture_seq.fetch_add(1) + 1;
  char name[16];
  std::snprintf(name, sizeof name, "uvs-cap-%u", seq);
  pthread_setname_np(pthread_self(), name);
  // Lower priority than the forwarding threads: on a busy box the capture loses, not the switch.
  setpriority(PRIO_PROCESS, pid_t(syscall(SYS_gettid)), opts_.writer_nice);
  // A stream reader that goes away must surface as EPIPE from write, not kill the daemon.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);

  for (;;) {
    // Read stop_ before draining: whatever the port thread queued before it was detached is
    // then guaranteed to be seen by this last drain.
    const bool stopping = stop_.load(std::memory_order_acquire);
    const size_t n = drain();
    if (stopping) break;
    if (n == 0) {
      // Polling every millisecond keeps the port thread free of wake-up system calls.
      timespec ts{0, 1'000'000};
      nanosleep(&ts, nullptr);
    }
  }
  sink_->close();
}

void Capture::stop() {
  if (!writer_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  writer_.join();
}

CaptureCounts Capture::counts() const {
  CaptureCounts c;
  c.matched = matched_.get();
  c.filtered_out = filtered_out_.get();
  c.dropped = dropped_.get();
  c.written = written_.get();
  c.bytes_written = bytes_written_.get();
  c.files = files_.get();
  c.queue_used = queue_.used_approx();
  c.failed = failed();
  std::lock_guard<std::mutex> lk(error_mu_);
  c.error = error_;
  return c;
}

}  // namespace uvs::bridge
