// SPDX-License-Identifier: MIT
// BackendHarness: N vhost-user-net ports on an IoThread, flooded into each other by a test sink.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "eventloop/io_thread.h"
#include "netback/frontend/vhost_frontend.h"
#include "netback/vhost/vhost_user_net_port.h"
#include "port/port.h"

namespace uvs::frontend::test {

/// Delivers every burst from one port to all the others (a hub: with two ports, a cross-wire).
/// Runs on the backend's loop thread.
class FloodSink final : public port::FrameSink {
 public:
  std::vector<port::Port*> ports;
  void receive_burst(port::Port& from, std::span<const port::Frame> frames) noexcept override {
    for (port::Port* p : ports) {
      if (p != &from) p->send_burst(frames);
    }
  }
};

/// Loop options from UVS_TEST_CONFIG ("poll=on" / "poll=off"), so the suite runs with the
/// backend busy-polling (kicks suppressed) and without.
inline ev::LoopOptions loop_options_from_env() {
  ev::LoopOptions o;
  const char* env = std::getenv("UVS_TEST_CONFIG");
  if (env != nullptr && std::strstr(env, "poll=off") != nullptr) o.poll_max_ns = 0;
  return o;
}

/// `o` asking for (and requiring) VIRTIO_F_RING_PACKED, or not.
inline FrontendOptions in_layout(FrontendOptions o, bool packed) {
  const uint64_t bit = netback::virtio::feature_bit(netback::virtio::feature::kRingPacked);
  if (packed) {
    o.features |= bit;
    o.required_features |= bit;
  } else {
    o.features &= ~bit;
  }
  return o;
}

/// Runs the calling test case once per ring layout, as two doctest subcases: false for split
/// rings (virtio 1.1 §2.6), then true for packed rings (§2.7).
inline bool packed_ring_subcase() {
  bool packed = false;
  SUBCASE("split rings") { packed = false; }
  SUBCASE("packed rings") { packed = true; }
  return packed;
}

/// The backend under test: `n` VhostUserNetPorts on their own IoThread, all sinks set to one
/// FloodSink. Every access to a port hops onto the loop thread.
class BackendHarness {
 public:
  explicit BackendHarness(size_t n, netback::SocketRole role = netback::SocketRole::kServer,
                          uint32_t queue_pairs = 1)
      : io_("vu-backend", loop_options_from_env()) {
    const std::string base = "/tmp/uvs-fe-comp-" + std::to_string(getpid()) + "-" +
                             std::to_string(instance_++) + "-";
    for (size_t i = 0; i < n; ++i) paths_.push_back(base + std::to_string(i) + ".sock");
    io_.start();
    io_.loop().run_in_loop_sync([&] {
      for (size_t i = 0; i < n; ++i) {
        netback::VhostUserNetOptions o;
        o.name = "p" + std::to_string(i);
        o.socket_path = paths_[i];
        o.role = role;
        o.queue_pairs = queue_pairs;
        o.reconnect_min_ns = 5'000'000;
        o.reconnect_max_ns = 20'000'000;
        o.offloads = true;  // offered; the default frontend options do not ack them
        auto port = std::make_unique<netback::VhostUserNetPort>(io_.loop(), o);
        netback::Status s = port->start();
        if (!s) start_error_ = s.to_string();
        port->set_sink(&sink_);
        sink_.ports.push_back(port.get());
        ports_.push_back(std::move(port));
      }
    });
  }

  ~BackendHarness() {
    io_.loop().run_in_loop_sync([&] {
      sink_.ports.clear();
      ports_.clear();
    });
    io_.stop();
    for (const auto& p : paths_) ::unlink(p.c_str());
  }

  const std::string& path(size_t i) const { return paths_[i]; }
  const std::string& start_error() const { return start_error_; }

  port::PortState state(size_t i) {
    port::PortState s{};
    io_.loop().run_in_loop_sync([&] { s = ports_[i]->state(); });
    return s;
  }
  netback::VhostUserNetStats stats(size_t i) {
    netback::VhostUserNetStats s;
    io_.loop().run_in_loop_sync([&] { s = ports_[i]->stats(); });
    return s;
  }
  /// Port `i`'s offload_caps(), read on its loop thread.
  uint32_t offload_caps(size_t i) {
    uint32_t c = 0;
    io_.loop().run_in_loop_sync([&] { c = ports_[i]->offload_caps(); });
    return c;
  }
  /// Polls port `i` until it reaches `want` or `timeout_ms` passes.
  bool wait_state(size_t i, port::PortState want, int timeout_ms) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < end) {
      if (state(i) == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return state(i) == want;
  }

 private:
  static inline int instance_ = 0;
  ev::IoThread io_;
  FloodSink sink_;
  std::vector<std::string> paths_;
  std::vector<std::unique_ptr<netback::VhostUserNetPort>> ports_;
  std::string start_error_;
};

/// A broadcast test frame from sender `id` carrying `seq`, `len` bytes long (>= 60).
inline std::vector<uint8_t> test_frame(uint8_t id, uint32_t seq, uint32_t len = 60) {
  std::vector<uint8_t> f(len < 60 ? 60 : len);
  std::memset(f.data(), 0xff, 6);                              // broadcast destination
  const uint8_t src[6] = {0x02, 0, 0, 0, 0, id};
  std::memcpy(f.data() + 6, src, 6);
  f[12] = 0x88;
  f[13] = 0xb5;                                                // local experimental EtherType
  std::memcpy(f.data() + 14, &seq, 4);
  for (size_t i = 18; i < f.size(); ++i) f[i] = static_cast<uint8_t>(seq * 31 + i);
  return f;
}

/// Sends `frames` in bursts of up to 32, retrying while the ring is full, for up to `timeout_ms`.
/// Returns frames sent.
inline size_t send_all(VhostFrontend& fe, const std::vector<std::vector<uint8_t>>& frames,
                       uint32_t pair = 0, int timeout_ms = 3000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t done = 0;
  while (done < frames.size() && std::chrono::steady_clock::now() < end) {
    std::span<const uint8_t> burst[32];
    size_t n = std::min<size_t>(32, frames.size() - done);
    for (size_t i = 0; i < n; ++i) burst[i] = frames[done + i];
    size_t k = fe.send_frames({burst, n}, pair);
    done += k;
    if (k < n) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return done;
}

/// Receives until `want` frames arrived (over every queue pair) or `timeout_ms` passed.
inline std::vector<std::vector<uint8_t>> receive_n(VhostFrontend& fe, size_t want, int timeout_ms = 3000) {
  std::vector<std::vector<uint8_t>> got;
  std::vector<uint8_t> store(32 * 16384);
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (got.size() < want && std::chrono::steady_clock::now() < end) {
    for (uint32_t pair = 0; pair < fe.queue_pair_count(); ++pair) {
      RxFrame out[32];
      for (size_t i = 0; i < 32; ++i) {
        out[i].data = store.data() + i * 16384;
        out[i].capacity = 16384;
      }
      int wait_ms = fe.queue_pair_count() == 1 ? 20 : 2;
      size_t n = fe.receive_frames(out, wait_ms, pair);
      for (size_t i = 0; i < n; ++i) got.emplace_back(out[i].data, out[i].data + std::min(out[i].len, out[i].capacity));
    }
  }
  return got;
}

}  // namespace uvs::frontend::test
