// SPDX-License-Identifier: MIT
// FakePort: a Port for switch tests that records what it is sent and injects bursts on demand.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "eventloop/event_loop.h"
#include "port/port.h"
#include "tests/switch/frame_builder.h"

namespace uvs::bridge::test {

/// Records every frame send_burst takes (copied, with the segment count it arrived in) and can
/// hand bursts to its sink as scattered segments. It lives on `loop`: send_burst, set_sink and
/// inject must run on that loop's thread, and it notes any call that does not.
class FakePort final : public port::Port {
 public:
  FakePort(std::string name, ev::EventLoop& loop) : name_(std::move(name)), loop_(&loop) {}

  size_t send_burst(std::span<const port::Frame> frames) noexcept override {
    check_thread();
    ++send_calls_;
    const size_t take = std::min(frames.size(), capacity_.load());
    {
      std::lock_guard<std::mutex> lk(mu_);
      for (size_t i = 0; i < take; ++i) {
        Bytes b(frames[i].len);
        b.resize(frames[i].copy_out(0, b.data(), b.size()));
        received_.push_back(std::move(b));
        received_ol_.push_back(frames[i].ol);
      }
    }
    if (on_send_) on_send_(*this, frames.first(take));
    return take;
  }
  void set_sink(port::FrameSink* sink) noexcept override {
    check_thread();
    sink_ = sink;
  }
  std::string_view name() const noexcept override { return name_; }
  port::PortState state() const noexcept override { return state_.load(); }
  uint32_t offload_caps() const noexcept override { return caps_.load(); }
  void set_offload_caps(uint32_t caps) { caps_.store(caps); }

  /// Hands `frames` to the sink as one burst, each split into segments of `seg` bytes (0: one
  /// segment). Loop thread only. No-op without a sink.
  void inject(const std::vector<Bytes>& frames, size_t seg = 0,
              const std::vector<port::Offload>& ol = {}) {
    check_thread();
    if (!sink_) return;
    std::vector<std::vector<iovec>> iovs(frames.size());
    std::vector<port::Frame> out(frames.size());
    for (size_t i = 0; i < frames.size(); ++i) {
      const Bytes& f = frames[i];
      const size_t step = seg ? seg : std::max<size_t>(f.size(), 1);
      for (size_t off = 0; off < f.size(); off += step) {
        iovs[i].push_back(iovec{const_cast<uint8_t*>(f.data()) + off, std::min(step, f.size() - off)});
      }
      out[i] = port::Frame{iovs[i].data(), uint32_t(iovs[i].size()), uint32_t(f.size())};
      if (i < ol.size()) out[i].ol = ol[i];
    }
    sink_->receive_burst(*this, out);
  }
  /// Same, from any thread: runs inject on the port's loop and waits.
  void inject_sync(const std::vector<Bytes>& frames, size_t seg = 0,
                   const std::vector<port::Offload>& ol = {}) {
    loop_->run_in_loop_sync([&] { inject(frames, seg, ol); });
  }

  /// Frames taken so far (copies). Any thread.
  std::vector<Bytes> received() const {
    std::lock_guard<std::mutex> lk(mu_);
    return received_;
  }
  /// The offload metadata of each frame taken, in order. Any thread.
  std::vector<port::Offload> received_ol() const {
    std::lock_guard<std::mutex> lk(mu_);
    return received_ol_;
  }
  size_t count() const {
    std::lock_guard<std::mutex> lk(mu_);
    return received_.size();
  }
  void clear() {
    std::lock_guard<std::mutex> lk(mu_);
    received_.clear();
    received_ol_.clear();
  }

  /// Most frames one send_burst takes (simulates a full guest RX ring).
  void set_capacity(size_t n) { capacity_.store(n); }
  void set_state(port::PortState s) { state_.store(s); }
  /// Called inside send_burst with the frames taken (loop thread), e.g. to answer synchronously.
  void on_send(std::function<void(FakePort&, std::span<const port::Frame>)> fn) {
    on_send_ = std::move(fn);
  }
  bool wrong_thread() const { return wrong_thread_.load(); }
  uint64_t send_calls() const { return send_calls_.load(); }
  ev::EventLoop& loop() { return *loop_; }

 private:
  void check_thread() {
    if (!loop_->in_loop_thread()) wrong_thread_.store(true);
  }

  std::string name_;
  ev::EventLoop* loop_;
  port::FrameSink* sink_ = nullptr;
  std::atomic<size_t> capacity_{std::numeric_limits<size_t>::max()};
  std::atomic<port::PortState> state_{port::PortState::kUp};
  std::atomic<uint32_t> caps_{0};
  std::atomic<bool> wrong_thread_{false};
  std::atomic<uint64_t> send_calls_{0};
  std::function<void(FakePort&, std::span<const port::Frame>)> on_send_;
  mutable std::mutex mu_;
  std::vector<Bytes> received_;
  std::vector<port::Offload> received_ol_;
};

}  // namespace uvs::bridge::test
