// SPDX-License-Identifier: MIT
// Component tests: two queue pairs of each vhost-user port on two threads (lanes), driven by the
// in-repo frontend — traffic on both pairs at once, order per pair, exact GET_VRING_BASE,
// reconnects; each on split and on packed rings.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/frontend/backend_harness.h"

using uvs::frontend::FrontendOptions;
using uvs::frontend::RxFrame;
using uvs::frontend::VhostFrontend;
using uvs::frontend::test::FloodSink;
using uvs::frontend::test::in_layout;
using uvs::frontend::test::loop_options_from_env;
using uvs::frontend::test::packed_ring_subcase;
using uvs::frontend::test::send_all;
using uvs::frontend::test::test_frame;
using uvs::netback::VhostUserNetLane;
using uvs::netback::VhostUserNetPort;
using uvs::netback::VhostUserNetStats;

namespace {

/// Two ports with queues=2 spread over two threads: pair 0 on thread "home" (the port), pair 1
/// on thread "lane" (its second lane). On each thread a FloodSink cross-wires the two ports'
/// lanes there, so pair k of one frontend reaches pair k of the other.
class LaneHarness {
 public:
  LaneHarness() : home_("vu-home", loop_options_from_env()), lane_("vu-lane", loop_options_from_env()) {
    const std::string base = "/tmp/uvs-fe-lanes-" + std::to_string(getpid()) + "-";
    home_.start();
    lane_.start();
    home_.loop().run_in_loop_sync([&] {
      for (int i = 0; i < 2; ++i) {
        uvs::netback::VhostUserNetOptions o;
        o.name = "m" + std::to_string(i);
        o.socket_path = base + std::to_string(i) + ".sock";
        o.queue_pairs = 2;
        o.lanes = 2;
        paths_.push_back(o.socket_path);
        ports_.push_back(std::make_unique<VhostUserNetPort>(home_.loop(), o));
      }
    });
    lane_.loop().run_in_loop_sync([&] {
      for (auto& p : ports_) {
        lanes_.push_back(p->make_lane(1, lane_.loop()));
        lanes_.back()->set_sink(&lane_sink_);
        lane_sink_.ports.push_back(lanes_.back().get());
      }
    });
    home_.loop().run_in_loop_sync([&] {
      for (auto& p : ports_) {
        uvs::netback::Status s = p->start();
        if (!s) error_ = s.to_string();
        p->set_sink(&home_sink_);
        home_sink_.ports.push_back(p.get());
      }
    });
  }

  ~LaneHarness() {
    // The documented order: release, stop the lanes on their thread, then destroy.
    home_.loop().run_in_loop_sync([&] {
      for (auto& p : ports_) p->release_lanes();
    });
    lane_.loop().run_in_loop_sync([&] {
      for (auto& l : lanes_) l->stop();
    });
    home_.loop().run_in_loop_sync([&] { ports_.clear(); });
    lane_.loop().run_in_loop_sync([&] { lanes_.clear(); });
    home_.stop();
    lane_.stop();
    for (const auto& p : paths_) ::unlink(p.c_str());
  }

  const std::string& path(size_t i) const { return paths_[i]; }
  const std::string& error() const { return error_; }

  /// Waits until every lane on the second thread runs its rings: the port starts them with a
  /// posted call once the frontend's start-up messages are handled.
  bool wait_lanes_up() {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < end) {
      bool up = true;
      lane_.loop().run_in_loop_sync([&] {
        for (auto& l : lanes_) up = up && l->state() == uvs::port::PortState::kUp;
      });
      if (up) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  VhostUserNetStats stats(size_t i) {
    VhostUserNetStats s;
    home_.loop().run_in_loop_sync([&] { s = ports_[i]->stats(); });
    lane_.loop().run_in_loop_sync([&] { VhostUserNetPort::add_lane_stats(s, *lanes_[i]); });
    return s;
  }

 private:
  uvs::ev::IoThread home_;
  uvs::ev::IoThread lane_;
  FloodSink home_sink_;
  FloodSink lane_sink_;
  std::vector<std::string> paths_;
  std::vector<std::unique_ptr<VhostUserNetPort>> ports_;
  std::vector<std::unique_ptr<VhostUserNetLane>> lanes_;
  std::string error_;
};

using Frames = std::vector<std::vector<uint8_t>>;

/// Receives from RX queue `pair` only until `want` frames arrived or 5 s passed.
Frames receive_pair(VhostFrontend& fe, uint32_t pair, size_t want) {
  Frames got;
  std::vector<uint8_t> store(32 * 2048);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.size() < want && std::chrono::steady_clock::now() < end) {
    RxFrame out[32];
    for (size_t i = 0; i < 32; ++i) {
      out[i].data = store.data() + i * 2048;
      out[i].capacity = 2048;
    }
    size_t n = fe.receive_frames(out, 2, pair);
    for (size_t i = 0; i < n; ++i) got.emplace_back(out[i].data, out[i].data + out[i].len);
  }
  return got;
}

/// Sends `n` frames on each of both pairs of `from`, interleaved in chunks so the two lanes work
/// at the same time, and checks that `to` gets each pair's frames on the same pair, in order.
void exchange_both_pairs(VhostFrontend& from, uint8_t id, VhostFrontend& to, size_t n) {
  constexpr size_t kChunk = 16;  // what the receiver's RX ring surely holds between receives
  Frames sent[2], got[2];
  for (uint32_t pair = 0; pair < 2; ++pair) {
    for (size_t i = 0; i < n; ++i) {
      sent[pair].push_back(test_frame(uint8_t(id + pair), uint32_t(pair * 1'000'000 + i), 60 + uint32_t(i % 200)));
    }
  }
  for (size_t at = 0; at < n; at += kChunk) {
    const size_t end = std::min(n, at + kChunk);
    for (uint32_t pair = 0; pair < 2; ++pair) {
      Frames chunk(sent[pair].begin() + long(at), sent[pair].begin() + long(end));
      REQUIRE(send_all(from, chunk, pair) == chunk.size());
    }
    for (uint32_t pair = 0; pair < 2; ++pair) {
      Frames part = receive_pair(to, pair, end - at);
      INFO("pair " << pair << " chunk at " << at);
      REQUIRE(part.size() == end - at);
      got[pair].insert(got[pair].end(), part.begin(), part.end());
    }
  }
  for (uint32_t pair = 0; pair < 2; ++pair) CHECK(got[pair] == sent[pair]);
}

}  // namespace

TEST_CASE("lanes: two queue pairs on two threads carry traffic both ways, in order per pair") {
  const bool packed = packed_ring_subcase();
  LaneHarness h;
  REQUIRE(h.error().empty());
  FrontendOptions o = in_layout({}, packed);
  o.queue_pairs = 2;
  VhostFrontend a(o), b(o);
  auto s = a.connect(h.path(0));
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  REQUIRE(b.connect(h.path(1)).ok());
  CHECK(a.backend_queue_num() == 2);
  CHECK(a.queue_pair(1).tx().packed() == packed);
  REQUIRE(h.wait_lanes_up());

  constexpr size_t kFrames = 400;
  exchange_both_pairs(a, 0x10, b, kFrames);
  exchange_both_pairs(b, 0x20, a, kFrames);

  // A migration starting and ending on `b` (SET_LOG_BASE, SET_FEATURES with LOG_ALL, ring
  // addresses with VHOST_VRING_F_LOG) while both of its lanes carry traffic: the port stops the
  // lane thread around each message, and the lane logs what it writes while logging is on.
  const uint64_t log_size = b.dirty_log_size();
  const int log_fd = memfd_create("uvs-test-lanes-log", MFD_CLOEXEC);
  REQUIRE(log_fd >= 0);
  REQUIRE(ftruncate(log_fd, off_t(log_size)) == 0);
  // The lane starts again by a posted call after the port's replies: until then the frames meant
  // for it are refused (out_drop_not_ready), so wait for it before sending.
  REQUIRE(b.start_dirty_log(log_fd, log_size).ok());
  REQUIRE(h.wait_lanes_up());
  exchange_both_pairs(a, 0x40, b, kFrames / 4);
  REQUIRE(b.stop_dirty_log().ok());
  REQUIRE(h.wait_lanes_up());
  exchange_both_pairs(b, 0x50, a, kFrames / 4);
  void* log_view = mmap(nullptr, log_size, PROT_READ, MAP_SHARED, log_fd, 0);
  REQUIRE(log_view != MAP_FAILED);
  const auto* log_bytes = static_cast<const uint8_t*>(log_view);
  CHECK(std::any_of(log_bytes, log_bytes + log_size, [](uint8_t x) { return x != 0; }));
  munmap(log_view, log_size);
  ::close(log_fd);

  // Each pair ran on its own lane: both carried every frame, counted per queue.
  VhostUserNetStats st = h.stats(0);
  REQUIRE(st.queues.size() == 2);
  constexpr size_t kPerPair = kFrames + kFrames / 4;
  CHECK(st.queues[0].in_frames == kPerPair);
  CHECK(st.queues[1].in_frames == kPerPair);
  CHECK(st.queues[0].out_frames == kPerPair);
  CHECK(st.queues[1].out_frames == kPerPair);
  CHECK(st.total.in_frames == 2 * kPerPair);

  // GET_VRING_BASE, answered on the port's thread, reports exactly where the lane thread's TX
  // ring stopped: every frame the guest sent on it. On a packed ring that is the position on the
  // second lap of 256 entries, wrap counter 0 in bit 15.
  std::vector<uint16_t> bases;
  REQUIRE(a.disconnect(&bases).ok());
  REQUIRE(bases.size() == 4);
  static_assert(kPerPair > 256 && kPerPair < 512);
  const uint16_t tx_end = packed ? kPerPair - 256 : kPerPair;
  CHECK(bases[1] == tx_end);  // TX of pair 0
  CHECK(bases[3] == tx_end);  // TX of pair 1
}

TEST_CASE("lanes: a frontend that reconnects gets both lanes back; a crash leaves the other port") {
  const bool packed = packed_ring_subcase();
  LaneHarness h;
  REQUIRE(h.error().empty());
  FrontendOptions o = in_layout({}, packed);
  o.queue_pairs = 2;
  VhostFrontend b(o);
  REQUIRE(b.connect(h.path(1)).ok());
  for (int round = 0; round < 3; ++round) {
    VhostFrontend a(o);
    auto s = a.connect(h.path(0));
    REQUIRE_MESSAGE(s.ok(), s.to_string());
    REQUIRE(h.wait_lanes_up());
    exchange_both_pairs(a, 0x30, b, 64);
    if (round % 2 == 0) {
      a.close();  // like a crashing hypervisor: the lanes are stopped without a GET_VRING_BASE
    } else {
      REQUIRE(a.disconnect().ok());
    }
  }
  VhostUserNetStats st = h.stats(0);
  CHECK(st.connections == 3);
  CHECK(st.protocol_errors == 0);
  CHECK(h.stats(1).protocol_errors == 0);
}
