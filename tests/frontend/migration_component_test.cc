// SPDX-License-Identifier: MIT
// Live migration against the real backend, driven by the in-repo frontend the way QEMU's
// vhost_migration_log drives it: SET_LOG_BASE with a memfd log, LOG_ALL on and off, logged
// rings, and the faults a migration can meet (short log fd, log too small, cancelled run).
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/frontend/backend_harness.h"

namespace v = uvs::netback::virtio;
using uvs::frontend::DriverVirtqueue;
using uvs::frontend::VhostFrontend;
using uvs::frontend::test::BackendHarness;
using uvs::frontend::test::receive_n;
using uvs::frontend::test::send_all;
using uvs::frontend::test::test_frame;
using uvs::port::PortState;

namespace {

constexpr uint64_t kPage = 4096;

/// The frontend's log: a memfd it shares with SET_LOG_BASE, read back as a set of dirty pages.
struct Log {
  int fd = -1;
  uint8_t* view = nullptr;
  uint64_t size = 0;
  explicit Log(uint64_t bytes, uint64_t file_bytes = 0) : size(file_bytes ? file_bytes : bytes) {
    fd = memfd_create("uvs-test-dirty-log", MFD_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(ftruncate(fd, static_cast<off_t>(size)) == 0);
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    REQUIRE(p != MAP_FAILED);
    view = static_cast<uint8_t*>(p);
  }
  ~Log() {
    munmap(view, size);
    close(fd);
  }
  /// Reads and clears the log as QEMU's sync does (an atomic exchange per word).
  std::set<uint64_t> take() {
    std::set<uint64_t> out;
    auto* words = reinterpret_cast<uint64_t*>(view);
    for (uint64_t w = 0; w < size / 8; ++w) {
      uint64_t bits = __atomic_exchange_n(&words[w], 0, __ATOMIC_ACQ_REL);
      for (; bits; bits &= bits - 1) out.insert(w * 64 + __builtin_ctzll(bits));
    }
    return out;
  }
};

/// A copy of every guest page of `fe`, to find the pages the backend changed.
struct Snapshot {
  std::vector<std::vector<uint8_t>> regions;
  explicit Snapshot(VhostFrontend& fe) {
    for (const auto& r : fe.ram().regions()) regions.emplace_back(r.host, r.host + r.size);
  }
  std::set<uint64_t> changed_pages(VhostFrontend& fe) const {
    std::set<uint64_t> out;
    size_t i = 0;
    for (const auto& r : fe.ram().regions()) {
      for (uint64_t off = 0; off < r.size; off += kPage) {
        if (std::memcmp(r.host + off, regions[i].data() + off, kPage) != 0) {
          out.insert((r.gpa + off) / kPage);
        }
      }
      ++i;
    }
    return out;
  }
};

/// Pages of the used rings of `fe`: the backend may rewrite a field there with its old value
/// (notification suppression), which is logged but changes nothing.
std::set<uint64_t> used_ring_pages(VhostFrontend& fe) {
  std::set<uint64_t> out;
  for (uint32_t p = 0; p < fe.queue_pair_count(); ++p) {
    for (DriverVirtqueue* q : {&fe.queue_pair(p).rx(), &fe.queue_pair(p).tx()}) {
      const uint64_t gpa = q->placement().used_gpa;
      const uint64_t len = v::used_ring_bytes(q->size());
      for (uint64_t pg = gpa / kPage; pg <= (gpa + len - 1) / kPage; ++pg) out.insert(pg);
    }
  }
  return out;
}

std::vector<std::vector<uint8_t>> frames_of(uint8_t id, uint32_t first, size_t n) {
  std::vector<std::vector<uint8_t>> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(test_frame(id, first + static_cast<uint32_t>(i), 60 + (i * 211) % 1440));
  }
  return out;
}

bool wait_out_frames(BackendHarness& h, size_t port, uint64_t want, int timeout_ms = 3000) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (h.stats(port).total.out_frames >= want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return h.stats(port).total.out_frames >= want;
}

/// The 16-bit guest memory field at `gpa` (a used index), read as the driver reads it.
uint16_t guest_u16(VhostFrontend& fe, uint64_t gpa) {
  const uint8_t* p = fe.ram().host(gpa, sizeof(uint16_t));
  REQUIRE(p != nullptr);
  return __atomic_load_n(reinterpret_cast<const uint16_t*>(p), __ATOMIC_ACQUIRE);
}

/// Stops vring `index` as QEMU's vhost_virtqueue_stop does, with GET_VRING_BASE on a connection
/// that stays open; returns where the ring is to resume.
uint16_t stop_ring(VhostFrontend& fe, uint32_t index) {
  uvs::netback::vu::VringState st{index, 0};
  uvs::netback::vu::VringState reply{};
  REQUIRE(fe.query(uvs::netback::vu::VhostUserRequest::kGetVringBase,
                   {reinterpret_cast<const uint8_t*>(&st), sizeof st},
                   {reinterpret_cast<uint8_t*>(&reply), sizeof reply}));
  CHECK(reply.index == index);
  return static_cast<uint16_t>(reply.num);
}

/// A peer that sends broadcast frames from its own thread, a few per millisecond, as many as it
/// has been allowed so far (allow()): traffic that races with the migration's control messages
/// while the test still knows how many frames there will be.
class Trickle {
 public:
  explicit Trickle(VhostFrontend& fe)
      : thread_([this, &fe] {
          uint32_t seq = 0;
          while (!stop_.load()) {
            if (seq < allowed_.load()) {
              auto frames = frames_of(2, seq, 4);
              seq += static_cast<uint32_t>(send_all(fe, frames, 0, 10000));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
        }) {}
  ~Trickle() {
    stop_ = true;
    thread_.join();
  }
  /// Lets `n` more frames go (a multiple of 4).
  void allow(uint32_t n) { allowed_ += n; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> allowed_{0};
  std::thread thread_;
};

/// Waits until port `port` has taken `want` frames from its guest's TX ring.
bool wait_in_frames(BackendHarness& h, size_t port, uint64_t want, int timeout_ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (h.stats(port).total.in_frames < want && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return h.stats(port).total.in_frames >= want;
}

}  // namespace

TEST_CASE("dirty log: the bitmap marks exactly the pages the backend writes") {
  BackendHarness h(2);
  VhostFrontend a, b;
  REQUIRE(a.connect(h.path(0)));
  REQUIRE(b.connect(h.path(1)));
  REQUIRE((b.protocol_features() & uvs::netback::vu::protocol_bit(
                                       uvs::netback::vu::ProtocolFeature::kLogShmfd)) != 0);
  REQUIRE((b.backend_features() & v::feature_bit(v::feature::kLogAll)) != 0);
  Log log(b.dirty_log_size());
  REQUIRE(b.start_dirty_log(log.fd, log.size));
  (void)log.take();  // only what follows counts

  Snapshot before(b);
  auto frames = frames_of(1, 0, 40);
  REQUIRE(send_all(a, frames) == frames.size());
  REQUIRE(wait_out_frames(h, 1, frames.size()));
  const std::set<uint64_t> changed = before.changed_pages(b);
  const std::set<uint64_t> logged = log.take();
  const std::set<uint64_t> used = used_ring_pages(b);

  // Every page the backend changed is marked (the property migration needs) ...
  for (uint64_t p : changed) CHECK_MESSAGE(logged.count(p) == 1, "unlogged page ", p);
  // ... and nothing else is, but for used ring fields rewritten with the same value.
  for (uint64_t p : logged) {
    CHECK_MESSAGE((changed.count(p) == 1 || used.count(p) == 1), "page marked but unwritten ", p);
  }
  // Buffers alternate between the two guest memory regions: both got marks.
  const uint64_t second = b.ram().regions()[1].gpa / kPage;
  CHECK(std::any_of(logged.begin(), logged.end(), [&](uint64_t p) { return p >= second; }));
  CHECK(std::any_of(logged.begin(), logged.end(), [&](uint64_t p) { return p < second; }));
  const uint64_t rx_used = b.queue_pair(0).rx().placement().used_gpa / kPage;
  CHECK(logged.count(rx_used) == 1);

  // The traffic is intact.
  auto got = receive_n(b, frames.size());
  REQUIRE(got.size() == frames.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == frames[i]);
  CHECK(h.state(1) == PortState::kUp);
}

TEST_CASE("dirty log: LOG_ALL dropped stops logging, forwarding goes on, a second run logs") {
  BackendHarness h(2);
  VhostFrontend a, b;
  REQUIRE(a.connect(h.path(0)));
  REQUIRE(b.connect(h.path(1)));
  uint32_t seq = 0;
  for (int run = 0; run < 2; ++run) {
    CAPTURE(run);
    Log log(b.dirty_log_size());
    REQUIRE(b.start_dirty_log(log.fd, log.size));
    auto frames = frames_of(1, seq, 16);
    seq += 16;
    REQUIRE(send_all(a, frames) == frames.size());
    auto got = receive_n(b, frames.size());
    CHECK(got == frames);
    CHECK_FALSE(log.take().empty());

    // Migration cancelled (or done): LOG_ALL and VHOST_VRING_F_LOG go away.
    REQUIRE(b.stop_dirty_log());
    (void)log.take();
    frames = frames_of(1, seq, 16);
    seq += 16;
    REQUIRE(send_all(a, frames) == frames.size());
    got = receive_n(b, frames.size());
    CHECK(got == frames);
    CHECK(log.take().empty());
    // And the other way, through b's TX ring.
    auto back = frames_of(2, seq, 8);
    seq += 8;
    REQUIRE(send_all(b, back) == back.size());
    CHECK(receive_n(a, back.size()) == back);
    CHECK(log.take().empty());
  }
  CHECK(h.state(1) == PortState::kUp);
  CHECK(h.stats(1).protocol_errors == 0);
}

TEST_CASE("dirty log: a short log fd breaks that port only, and a reconnect recovers") {
  BackendHarness h(2);
  VhostFrontend a, b;
  REQUIRE(a.connect(h.path(0)));
  REQUIRE(b.connect(h.path(1)));
  Log log(b.dirty_log_size(), /*file_bytes=*/4096);  // announces more than the file holds
  CHECK_FALSE(b.start_dirty_log(log.fd, b.dirty_log_size()));
  CHECK(b.wait_backend_closed(2000));
  CHECK(h.wait_state(1, PortState::kBroken, 2000));
  CHECK(h.state(0) == PortState::kUp);
  b.close();
  REQUIRE(b.connect(h.path(1)));
  REQUIRE(h.wait_state(1, PortState::kUp, 2000));
  auto frames = frames_of(1, 0, 8);
  REQUIRE(send_all(a, frames) == frames.size());
  CHECK(receive_n(b, frames.size()) == frames);
}

TEST_CASE("dirty log: a log too small for the guest breaks the port at the first write past it") {
  BackendHarness h(2);
  VhostFrontend a, b;
  REQUIRE(a.connect(h.path(0)));
  REQUIRE(b.connect(h.path(1)));
  // Covers the first region only; RX buffers alternate into the second one at 4 GiB.
  const auto& r0 = b.ram().regions()[0];
  Log log((r0.gpa + r0.size) / kPage / 8);
  REQUIRE(b.start_dirty_log(log.fd, log.size));
  auto frames = frames_of(1, 0, 4);
  send_all(a, frames, 0, 500);
  CHECK(h.wait_state(1, PortState::kBroken, 2000));
  CHECK(b.wait_backend_closed(2000));
  CHECK(h.stats(1).protocol_errors == 1);
  CHECK(h.state(0) == PortState::kUp);
}

TEST_CASE("dirty log: GET_VRING_BASE on stop returns exact indices after logged traffic") {
  BackendHarness h(2);
  VhostFrontend a, b;
  REQUIRE(a.connect(h.path(0)));
  REQUIRE(b.connect(h.path(1)));
  Log log(b.dirty_log_size());
  REQUIRE(a.start_dirty_log(log.fd, log.size));
  auto frames = frames_of(1, 0, 50);
  REQUIRE(send_all(a, frames) == frames.size());
  REQUIRE(receive_n(b, frames.size()).size() == frames.size());
  REQUIRE(a.flush_tx(2000));
  std::vector<uint16_t> bases_a, bases_b;
  REQUIRE(a.disconnect(&bases_a));
  REQUIRE(b.disconnect(&bases_b));
  REQUIRE(bases_a.size() == 2);
  REQUIRE(bases_b.size() == 2);
  CHECK(bases_a[1] == frames.size());  // a's TX ring: every frame consumed, nothing in flight
  CHECK(bases_b[0] == frames.size());  // b's RX ring: one buffer per frame (no merging needed)
  CHECK(bases_a[0] == 0);
  CHECK(bases_b[1] == 0);
}

TEST_CASE("dirty log: under traffic, what is written before GET_VRING_BASE is logged, nothing after") {
  // The migrating guest is `a` on port 0; its peer `b` (port 1) floods it while the frontend
  // starts the log, replaces it (QEMU's vhost_dev_log_resize: SET_LOG_BASE with a new fd while
  // the rings run) and stops the rings as vhost_dev_stop does. `a`'s driver stays idle, so every
  // change to its memory is the backend's. vhost-user.rst "Migration": the frontend syncs the log
  // once the rings are stopped; a store that is not logged by then, or one made after, leaves the
  // destination with a stale page.
  BackendHarness h(2);
  VhostFrontend a, b;
  REQUIRE(a.connect(h.path(0)));
  REQUIRE(b.connect(h.path(1)));
  Log first(a.dirty_log_size());
  Log second(a.dirty_log_size());
  REQUIRE(a.start_dirty_log(first.fd, first.size));
  (void)first.take();
  const Snapshot before(a);
  const uint64_t rx_used_gpa = a.queue_pair(0).rx().placement().used_gpa;
  const uint16_t used_before = guest_u16(a, rx_used_gpa + offsetof(v::VringUsed, idx));
  std::set<uint64_t> logged;
  std::set<uint64_t> changed;
  uint16_t rx_base = 0;
  {
    // 64 frames before the stop (a quarter of a's RX ring: the backend never runs out of room
    // and stops writing on its own), 64 more after it.
    Trickle peer(b);
    peer.allow(32);
    REQUIRE(wait_out_frames(h, 0, 16, 10000));
    REQUIRE(a.start_dirty_log(second.fd, second.size));
    peer.allow(32);
    REQUIRE(wait_out_frames(h, 0, 48, 10000));
    rx_base = stop_ring(a, 0);
    (void)stop_ring(a, 1);
    for (Log* l : {&first, &second}) {
      for (uint64_t p : l->take()) logged.insert(p);
    }
    changed = before.changed_pages(a);
    const Snapshot at_stop(a);
    // Frames keep coming for `a`: the backend takes them from b's TX ring and hands them to a's
    // port in the same burst, which must leave a's memory alone.
    peer.allow(64);
    REQUIRE(wait_in_frames(h, 1, 128, 10000));
    const std::set<uint64_t> late = at_stop.changed_pages(a);
    CHECK_MESSAGE(late.empty(), late.size(), " page(s) written after GET_VRING_BASE");
    CHECK(first.take().empty());
    CHECK(second.take().empty());
    // Each frame either reached a's RX ring before the stop or was refused after it.
    const auto st = h.stats(0);
    CHECK(st.total.out_frames == static_cast<uint16_t>(rx_base - used_before));
    CHECK(st.total.out_frames + st.out_drop_not_ready == 128);
  }
  REQUIRE_FALSE(changed.empty());
  for (uint64_t p : changed) CHECK_MESSAGE(logged.count(p) == 1, "unlogged page ", p);
  // Nothing in flight: every chain the backend took was completed, so the destination resumes
  // at the guest's used index.
  CHECK(guest_u16(a, rx_used_gpa + offsetof(v::VringUsed, idx)) == rx_base);
  CHECK(h.stats(0).protocol_errors == 0);
}
