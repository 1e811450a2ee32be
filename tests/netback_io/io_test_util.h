// SPDX-License-Identifier: MIT
// Helpers for the tap / stream / dgram port tests: a copying sink, patterned frames, scratch
// directories and a loop driver.
#pragma once

#include <sys/uio.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "eventloop/clock.h"
#include "eventloop/event_loop.h"
#include "port/frame.h"
#include "port/port.h"
#include "tests/eventloop/test_config.h"

namespace uvs::netback::test {

using ev::test::loop_options;
using ev::test::run_until;

/// Copies every frame it receives (frames are lent only for the call) and remembers the port.
struct CollectSink final : port::FrameSink {
  std::vector<std::vector<uint8_t>> frames;
  size_t bursts = 0;
  size_t max_burst = 0;
  port::Port* last_from = nullptr;
  void receive_burst(port::Port& from, std::span<const port::Frame> burst) noexcept override {
    ++bursts;
    if (burst.size() > max_burst) max_burst = burst.size();
    last_from = &from;
    for (const auto& f : burst) {
      std::vector<uint8_t> b(f.len);
      f.copy_out(0, b.data(), f.len);
      frames.push_back(std::move(b));
    }
  }
};

/// A frame of `len` bytes whose content is determined by (`seq`, `len`): broadcast destination,
/// a locally administered source, then a pattern. Checked by frame_matches.
inline std::vector<uint8_t> pattern_frame(uint32_t seq, uint32_t len) {
  std::vector<uint8_t> f(len);
  for (uint32_t i = 0; i < len; ++i) f[i] = static_cast<uint8_t>(seq * 131 + i * 7 + (i >> 8));
  for (uint32_t i = 0; i < 6 && i < len; ++i) f[i] = 0xff;
  if (len >= 12) {
    f[6] = 0x02;
    f[7] = 0x00;
    f[8] = static_cast<uint8_t>(seq >> 24);
    f[9] = static_cast<uint8_t>(seq >> 16);
    f[10] = static_cast<uint8_t>(seq >> 8);
    f[11] = static_cast<uint8_t>(seq);
  }
  return f;
}

/// Lends `bufs` as Frames, each split into up to `pieces` segments (to exercise scattered
/// sends). The returned object owns the iovecs; `bufs` must outlive it.
class FrameList {
 public:
  FrameList(const std::vector<std::vector<uint8_t>>& bufs, uint32_t pieces = 1) {
    iov_.reserve(bufs.size() * pieces);
    std::vector<size_t> first;
    for (const auto& b : bufs) {
      first.push_back(iov_.size());
      size_t n = pieces;
      if (n > b.size()) n = b.size();
      size_t off = 0;
      for (size_t p = 0; p < n; ++p) {
        size_t take = (p + 1 == n) ? b.size() - off : b.size() / n;
        iov_.push_back(iovec{const_cast<uint8_t*>(b.data()) + off, take});
        off += take;
      }
    }
    for (size_t i = 0; i < bufs.size(); ++i) {
      size_t end = i + 1 < bufs.size() ? first[i + 1] : iov_.size();
      frames_.push_back(port::Frame{&iov_[first[i]], static_cast<uint32_t>(end - first[i]),
                                    static_cast<uint32_t>(bufs[i].size())});
    }
  }
  std::span<const port::Frame> all() const { return frames_; }
  std::span<const port::Frame> from(size_t i, size_t max = port::kMaxBurst) const {
    size_t n = frames_.size() - i;
    if (n > max) n = max;
    return {frames_.data() + i, n};
  }
  size_t size() const { return frames_.size(); }

 private:
  std::vector<iovec> iov_;
  std::vector<port::Frame> frames_;
};

/// A scratch directory for sockets, removed with its content afterwards.
class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/uvs-netback-io-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// Offers `frames` to `port` a burst at a time, running the loop whenever the port refuses
/// (socket full), until every frame was taken or `timeout_ns` passes. Returns frames taken.
inline size_t send_all(ev::EventLoop& loop, port::Port& port, const FrameList& frames,
                       int64_t timeout_ns = 10'000'000'000) {
  size_t next = 0;
  const int64_t deadline = ev::now_ns() + timeout_ns;
  while (next < frames.size() && ev::now_ns() < deadline) {
    size_t took = port.send_burst(frames.from(next));
    next += took;
    if (took == 0) loop.run_once(false);
  }
  return next;
}

}  // namespace uvs::netback::test
