// SPDX-License-Identifier: MIT
// The switch benchmark's forwarding scenario: daemon start-up, sampling, and the per-run figures.
#include "tools/bench/switch_load.h"

#include "tools/bench/switch_daemon.h"

namespace uvs::bench {
namespace {

constexpr int kDaemonStartMs = 15'000;
constexpr int kPortsUpMs = 5'000;

}  // namespace

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
  dopt.ports = {"vhost-user,id=a,path=" + o.dir + "/a.sock,thread=0",
                "vhost-user,id=b,path=" + o.dir + "/b.sock,thread=" + std::to_string(s.threads - 1)};
  std::string err = d.start(dopt, kDaemonStartMs);
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
  r.backend_cpu_ns_per_packet = fwd ? cpu / double(fwd) : 0;
  r.backend_core_share = cpu / double(smp[1].wall_ns - smp[0].wall_ns);
  return r;
}

}  // namespace uvs::bench
