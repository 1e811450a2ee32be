// SPDX-License-Identifier: MIT
// Scenarios 2 and 3 of the netback benchmark: the testpmd generator's session and both backends.
#include "tools/bench/testpmd_load.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "eventloop/clock.h"
#include "tools/bench/child_process.h"
#include "tools/bench/cross_wired_pair.h"
#include "tools/bench/interrupt_guard.h"
#include "tools/bench/testpmd_process.h"

namespace uvs::bench {
namespace {

// testpmd start-up with --no-huge -m 512 takes about a second here; allow for a loaded machine.
constexpr int kStartupTimeoutMs = 30'000;
constexpr int kExitTimeoutMs = 10'000;
const char* const kMacA = "02:00:00:00:00:0a";
const char* const kMacB = "02:00:00:00:00:0b";

std::string lcores(int a, int b) {
  return std::to_string(std::min(a, b)) + "," + std::to_string(std::max(a, b));
}

/// Common EAL arguments: two lcores, no PCI scan, and 4 KiB pages unless a hugetlbfs is named.
/// On hugepages the memory is one file per segment list (--single-file-segments), so the
/// generator's memory table stays within vhost-user's 8 regions (vhost-user.rst, "Memory
/// regions description"); TestpmdProcess removes the page files after the run.
std::vector<std::string> eal_args(const TestpmdLoadOptions& o, int main_lcore) {
  std::vector<std::string> a = {"-l", lcores(o.generator_cpu, o.backend_cpu), "--main-lcore",
                                std::to_string(main_lcore), "-m", "512", "--no-pci",
                                "--log-level=lib.eal:error"};
  if (o.huge_dir.empty()) {
    a.push_back("--no-huge");
  } else {
    a.insert(a.end(), {"--huge-dir", o.huge_dir, "--single-file-segments"});
  }
  return a;
}

/// The mbuf pool: 16384 for one queue pair per port, as the benchmarks have always run, and as
/// much again for each further queue pair, whose rings fill with mbufs of their own.
std::string mbufs(const TestpmdLoadOptions& o) {
  return "--total-num-mbufs=" + std::to_string(16384 * std::max(1u, o.queues));
}

}  // namespace

void drive_generator(const TestpmdLoadOptions& o, const std::function<void(int)>& at_show,
                     NetRunResult* r, GeneratorCounts* counts) {
  TestpmdProcess gen;
  std::vector<std::string> eal = eal_args(o, o.backend_cpu);  // forwarding lcore: generator_cpu
  // packed_vq=1 offers VIRTIO_F_RING_PACKED (virtio 1.1 §2.8); both backends accept it.
  const std::string ring = o.packed_rings ? ",packed_vq=1" : "";
  const std::string q = o.queues > 1 ? ",queues=" + std::to_string(o.queues) : "";
  eal.insert(eal.end(),
             {"--vdev", "net_virtio_user0,path=" + o.dir + "/a.sock,mac=" + kMacA + ring + q,
              "--vdev", "net_virtio_user1,path=" + o.dir + "/b.sock,mac=" + kMacB + ring + q});
  std::vector<std::string> app = {
      "-i", "--forward-mode=mac", "--txpkts=" + std::to_string(o.frame_len), "--nb-cores=1",
      "--no-mlockall", mbufs(o), std::string("--eth-peer=0,") + kMacB,
      std::string("--eth-peer=1,") + kMacA};
  if (o.queues > 1) {
    // Every stream (port, queue) is seeded by `start tx_first`; varying the source address per
    // frame gives the backend's flow hash many flows to spread over its queues, where one flow
    // would pin the whole loop to one queue pair after the first pass.
    app.insert(app.end(), {"--rxq=" + std::to_string(o.queues),
                           "--txq=" + std::to_string(o.queues), "--txonly-multi-flow"});
  }
  std::string err = gen.start(o.testpmd, o.prefix + "-gen", eal, app, o.dir + "/generator.log");
  if (!err.empty()) {
    r->error = "generator: " + err;
    return;
  }
  // The prompt is written straight to the terminal fd (testpmd's printf output is block-buffered
  // into the log and only appears at exit), so it is the one live sign that start-up finished.
  if (!gen.wait_for("testpmd> ", kStartupTimeoutMs)) {
    gen.finish(0);
    r->error = "generator testpmd did not reach its prompt:" + tail_lines(gen.log(), 8);
    return;
  }
  bool ok = gen.send("start tx_first 8") && sleep_unless_interrupted(o.warmup_s) &&
            gen.send("show port stats all");
  if (ok) {
    at_show(0);
    ok = sleep_unless_interrupted(o.seconds) && gen.send("show port stats all");
  }
  if (ok) at_show(1);
  if (ok) ok = gen.send("stop") && gen.send("quit");
  const int rc = gen.finish(kExitTimeoutMs);
  const std::string log = gen.log();
  if (!ok || rc != 0) {
    r->error = interrupted() ? "interrupted"
                             : "generator testpmd failed (exit " + std::to_string(rc) + "):" +
                                   tail_lines(log, 8);
    return;
  }
  auto blocks = parse_port_stats(log, 2);
  if (blocks[0].size() < 2 || blocks[1].size() < 2) {
    r->error = "no port statistics in the generator's output:" + tail_lines(log, 8);
    return;
  }
  // Port 0 sends into A, port 1 into B: A → B arrives on port 1.
  r->pps[0] = blocks[1].back().rx_pps;
  r->pps[1] = blocks[0].back().rx_pps;
  for (const auto& b : blocks) counts->received += b.back().rx_packets - b[b.size() - 2].rx_packets;
}

NetRunResult run_testpmd_uvswitch(const TestpmdLoadOptions& o) {
  NetRunResult r;
  if (o.queues != 1) {
    r.error = "the in-process backend pair serves one queue pair per port";
    return r;
  }
  CrossWiredPair pair(o.dir, o.backend_cpu, o.poll_max_ns);
  if (!pair.error().empty()) {
    r.error = pair.error();
    return r;
  }
  PairSample s[2];
  auto at_show = [&](int i) {
    if (i == 0 && !pair.wait_up(0)) r.error = "backend ports were not up when measuring";
    s[i] = pair.sample();
  };
  GeneratorCounts counts;
  drive_generator(o, at_show, &r, &counts);
  if (!r.ok()) return r;
  uint64_t fwd = 0;
  for (int d = 0; d < 2; ++d) {
    fwd += s[1].forwarded[d] - s[0].forwarded[d];
    r.dropped += s[1].dropped[d] - s[0].dropped[d];
  }
  const double cpu = double(s[1].cpu_ns - s[0].cpu_ns);
  r.backend_cpu_ns_per_packet = fwd ? cpu / double(fwd) : 0;
  r.backend_core_share = cpu / double(s[1].wall_ns - s[0].wall_ns);
  return r;
}

NetRunResult run_testpmd_baseline(const TestpmdLoadOptions& o) {
  NetRunResult r;
  TestpmdProcess back;
  std::vector<std::string> eal = eal_args(o, o.generator_cpu);  // forwarding lcore: backend_cpu
  const std::string q = o.queues > 1 ? ",queues=" + std::to_string(o.queues) : "";
  eal.insert(eal.end(), {"--vdev", "net_vhost0,iface=" + o.dir + "/a.sock" + q, "--vdev",
                         "net_vhost1,iface=" + o.dir + "/b.sock" + q});
  std::vector<std::string> app = {"-i", "--forward-mode=io", "--nb-cores=1", "--no-mlockall",
                                  mbufs(o)};
  if (o.queues > 1) {
    app.insert(app.end(),
               {"--rxq=" + std::to_string(o.queues), "--txq=" + std::to_string(o.queues)});
  }
  std::string err = back.start(o.testpmd, o.prefix + "-vhost", eal, app, o.dir + "/vhost.log");
  if (!err.empty()) {
    r.error = "baseline: " + err;
    return r;
  }
  // Its vhost sockets listen once the prompt is up; forwarding may start before a frontend
  // connects (the queues just stay empty until then).
  if (!back.wait_for("testpmd> ", kStartupTimeoutMs) || !back.send("start")) {
    back.finish(0);
    r.error = "baseline testpmd did not reach its prompt:" + tail_lines(back.log(), 8);
    return r;
  }
  int64_t cpu[2] = {0, 0};
  int64_t wall[2] = {0, 0};
  auto at_show = [&](int i) {
    cpu[i] = back.cpu_ns();
    wall[i] = ev::now_ns();
  };
  GeneratorCounts counts;
  drive_generator(o, at_show, &r, &counts);
  back.send("stop");
  back.send("quit");
  back.finish(kExitTimeoutMs);
  if (!r.ok()) return r;
  const double c = double(cpu[1] - cpu[0]);
  r.backend_cpu_ns_per_packet = counts.received ? c / double(counts.received) : 0;
  r.backend_core_share = c / double(wall[1] - wall[0]);
  return r;
}

}  // namespace uvs::bench
