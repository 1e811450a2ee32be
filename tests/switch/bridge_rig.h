// SPDX-License-Identifier: MIT
// BridgeRig: a Bridge over FakePorts on real forwarding threads, for the component tests.
#pragma once

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "eventloop/event_loop.h"
#include "switch/bridge.h"
#include "switch/port_threads.h"
#include "tests/switch/fake_port.h"

namespace uvs::bridge::test {

/// Loop options from UVS_TEST_CONFIG ("poll=on" / "poll=off"), so the suite runs both ways.
inline ev::LoopOptions loop_options() {
  ev::LoopOptions o;
  const char* env = std::getenv("UVS_TEST_CONFIG");
  if (env && std::string(env).find("poll=off") != std::string::npos) o.poll_max_ns = 0;
  return o;
}

/// Polls `done` until true or 5 s pass; returns done().
template <typename F>
bool wait_until(F done, int timeout_ms = 5000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return done();
}

/// `threads` running forwarding loops, a Bridge over them, and FakePorts added with add().
struct BridgeRig {
  explicit BridgeRig(size_t threads = 2, BridgeOptions opts = {}, bool start = true)
      : pt(threads, loop_options(), "uvs-test") {
    bridge = std::make_unique<Bridge>(pt.loops(), opts);
    if (start) pt.start();
  }
  ~BridgeRig() {
    bridge.reset();  // before the ports and loops it references
    pt.stop();
  }

  /// Creates a FakePort on `thread` and attaches it with `vlan`; returns it.
  FakePort& add(const std::string& name, unsigned thread, VlanConfig vlan = {}) {
    PortOptions o;
    o.vlan = std::move(vlan);
    return add(name, thread, std::move(o));
  }

  /// Creates a FakePort on `thread` and attaches it with `o` (its thread set to `thread`).
  FakePort& add(const std::string& name, unsigned thread, PortOptions o) {
    ports.push_back(std::make_unique<FakePort>(name, pt.loop(thread)));
    o.thread = thread;
    auto r = bridge->add_port(*ports.back(), o);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    index.push_back(*r);
    return *ports.back();
  }

  /// Waits until every frame sent so far has been delivered: one hand-off round on every loop
  /// (a drain scheduled before the hand-off runs before it), twice for good measure.
  void quiesce() {
    for (int round = 0; round < 2; ++round) {
      for (size_t t = 0; t < pt.size(); ++t) pt.loop(t).run_in_loop_sync([] {});
    }
  }

  void clear_all() {
    for (auto& p : ports) p->clear();
  }

  PortStats port_stats(size_t i) {
    for (const PortStats& s : bridge->stats().ports) {
      if (s.index == index[i]) return s;
    }
    FAIL("port not attached");
    return {};
  }

  uint64_t thread_sum(uint64_t ThreadStats::*field) {
    uint64_t n = 0;
    for (const ThreadStats& t : bridge->stats().threads) n += t.*field;
    return n;
  }

  PortThreads pt;
  std::unique_ptr<Bridge> bridge;
  std::vector<std::unique_ptr<FakePort>> ports;
  std::vector<PortIndex> index;
};

inline VlanConfig access_vlan(uint16_t vid) {
  VlanConfig c;
  c.access_vlan = vid;
  return c;
}

inline VlanConfig trunk_vlans(std::vector<uint16_t> vids, uint16_t native = 0) {
  VlanConfig c;
  c.mode = VlanMode::kTrunk;
  c.trunk = std::move(vids);
  c.native_vlan = native;
  return c;
}

}  // namespace uvs::bridge::test
