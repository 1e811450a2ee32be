// SPDX-License-Identifier: MIT
// The switch benchmark's forwarding scenario: daemon start-up, sampling, and the per-run figures.
#include "tools/bench/switch_load.h"

#include <algorithm>

#include "tools/bench/switch_daemon.h"

namespace uvs::bench {
namespace {

constexpr int kDaemonStartMs = 15'000;
constexpr int kPortsUpMs = 5'000;

}  // namespace

std::vector<std::string> switch_port_specs(const std::string& dir, const SwitchRunOptions& s) {
  std::vector<std::string> out;
  for (const char* id : {"a", "b"}) {
    std::string spec = std::string("vhost-user,id=") + id + ",path=" + dir + "/" + id + ".sock";
    if (s.queues <= 1) {
      spec += ",thread=" + std::to_string(id[0] == 'a' ? 0 : s.threads - 1);
    } else if (s.threads <= 1) {
      spec += ",queues=" + std::to_string(s.queues) + ",thread=0";
    } else {
      // README "Multi-queue across threads": queue pair p runs on the (p mod n)-th listed thread.
      std::string list;
      for (unsigned t = 0; t < s.threads; ++t) list += (t ? ":" : "") + std::to_string(t);
      spec += ",queues=" + std::to_string(s.queues) + ",threads=" + list;
    }
    out.push_back(spec);
  }
  return out;
}

NetRunResult run_testpmd_switch(const TestpmdLoadOptions& o, const SwitchRunOptions& s) {
  NetRunResult r;
  SwitchDaemon d;
  SwitchDaemonOptions dopt;
  dopt.binary = s.uvswitch;
  dopt.dir = o.dir;
  dopt.threads = s.threads;
  dopt.cpus = s.daemon_cpus;
  dopt.poll_max_ns = o.poll_max_ns;
  dopt.extra_args = s.extra_args;
  dopt.ports = switch_port_specs(o.dir, s);
  std::string err = d.start(dopt, kDaemonStartMs);
  if (err.empty() && !s.thread_cpus.empty()) {
    std::vector<int> pins(s.thread_cpus.begin(),
                          s.thread_cpus.begin() + std::min<size_t>(s.threads, s.thread_cpus.size()));
    err = d.pin_io_threads(pins);
    if (!err.empty()) err = "pinning the daemon's threads: " + err;
  }
  if (!err.empty()) {
    r.error = err;
    return r;
  }
  DaemonSample smp[2];
  auto at_show = [&](int i) {
    if (!r.ok()) return;
    if (i == 0 && !d.wait_ports_up({"a", "b"}, kPortsUpMs)) {
      r.error = "the daemon's ports were not up when measuring";
      return;
    }
    std::string e;
    if (!d.sample(&smp[i], &e)) r.error = "sampling the daemon: " + e;
  };
  GeneratorCounts counts;
  NetRunResult g;
  drive_generator(o, at_show, &g, &counts);
  const int rc = d.stop();
  if (!r.ok()) return r;
  if (!g.ok()) return g;
  r = g;
  if (rc != 0) {
    r.error = "uvswitch exited with status " + std::to_string(rc) + ":" + tail_lines(d.log(), 8);
    return r;
  }
  const uint64_t fwd = smp[1].out_frames - smp[0].out_frames;
  const double cpu = double(smp[1].cpu_ns - smp[0].cpu_ns);
  r.dropped = smp[1].dropped - smp[0].dropped;
  r.cross_thread = smp[1].ring_out - smp[0].ring_out;
  auto delta = [](const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
    std::vector<uint64_t> out(b.size(), 0);
    for (size_t i = 0; i < b.size(); ++i) out[i] = b[i] - (i < a.size() ? a[i] : 0);
    return out;
  };
  r.thread_frames = delta(smp[0].thread_out, smp[1].thread_out);
  r.queue_frames = delta(smp[0].queue_out, smp[1].queue_out);
  r.backend_cpu_ns_per_packet = fwd ? cpu / double(fwd) : 0;
  r.backend_core_share = cpu / double(smp[1].wall_ns - smp[0].wall_ns);
  return r;
}

}  // namespace uvs::bench
