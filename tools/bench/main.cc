// SPDX-License-Identifier: MIT
// uvswitch-bench: command-line entry that dispatches to one benchmark per subcommand.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>

#include "tools/bench/capture_bench.h"
#include "tools/bench/dirty_log_bench.h"
#include "tools/bench/eventloop_bench.h"
#include "tools/bench/gso_bench.h"
#include "tools/bench/netback_bench.h"
#include "tools/bench/switch_bench.h"

int main(int argc, char** argv) {
  CLI::App app{"uvswitch benchmarks: each prints a table (or --json)"};
  app.require_subcommand(1);

  uvs::bench::EventLoopBenchOptions ev;
  auto* evcmd = app.add_subcommand(
      "eventloop", "wake-up latency, dispatch cost vs idle fd count (epoll/ppoll), idle CPU");
  evcmd->add_flag("--json", ev.json, "print JSON instead of a table");
  evcmd->add_option("--samples", ev.wake_samples, "wake-up samples per configuration")
      ->check(CLI::Range(100, 10'000'000));
  evcmd->add_option("--repeats", ev.repeats, "runs per figure; the median is reported")
      ->check(CLI::Range(1, 100));
  evcmd->add_option("--idle-seconds", ev.idle_seconds, "length of the idle-CPU measurement")
      ->check(CLI::Range(0.1, 600.0));

  uvs::bench::NetbackBenchOptions nb;
  auto* nbcmd = app.add_subcommand(
      "netback", "vhost-user data path: Mpps, Gbit/s, CPU/packet, latency; testpmd's vhost PMD "
                 "measured beside it");
  nbcmd->add_flag("--json", nb.json, "print JSON instead of a table");
  nbcmd->add_option("--repeats", nb.repeats, "runs per figure; the median is reported")
      ->check(CLI::Range(1, 100));
  nbcmd->add_option("--seconds", nb.seconds, "measured interval of each run")
      ->check(CLI::Range(0.2, 60.0));
  nbcmd->add_option("--warmup", nb.warmup_seconds, "traffic before each measured interval")
      ->check(CLI::Range(0.1, 30.0));
  nbcmd->add_option("--sizes", nb.sizes, "frame sizes in bytes, FCS included (64..1518)")
      ->delimiter(',')
      ->check(CLI::Range(64, 1518));
  nbcmd->add_option("--testpmd", nb.testpmd, "dpdk-testpmd binary (name in PATH, or a path)");
  nbcmd->add_flag("--no-testpmd", nb.skip_testpmd, "skip the testpmd generator and baseline");
  nbcmd->add_flag("--no-frontend", nb.skip_frontend, "skip the in-repo generator");
  nbcmd->add_option("--backend-cpu", nb.backend_cpu, "CPU of the backend loop / baseline lcore")
      ->check(CLI::Range(0, 1023));
  nbcmd->add_option("--generator-cpu", nb.generator_cpu, "CPU of the generators")
      ->check(CLI::Range(0, 1023));
  nbcmd->add_option("--poll-max-ns", nb.poll_max_ns,
                    "busy-poll ceiling of our backend loop (0: no polling; default: the loop's)")
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000'000}));
  nbcmd->add_option("--ping-samples", nb.ping_samples,
                    "one-frame-in-flight latency samples per size and run (0: none)")
      ->check(CLI::Range(0, 10'000'000));

  uvs::bench::GsoBenchOptions gs;
  auto* gscmd = app.add_subcommand(
      "gso", "vhost-user to vhost-user with 64 KiB TSO frames (in-repo frontend), beside the same "
             "bytes as MTU-size plain frames: Gbit/s and backend CPU per Gbit");
  gscmd->add_flag("--json", gs.json, "print JSON instead of a table");
  gscmd->add_option("--repeats", gs.repeats, "runs per figure; the median is reported")
      ->check(CLI::Range(1, 100));
  gscmd->add_option("--seconds", gs.seconds, "measured interval of each run")
      ->check(CLI::Range(0.2, 60.0));
  gscmd->add_option("--mss", gs.mss, "gso_size of the superframes")->check(CLI::Range(536, 9000));
  gscmd->add_option("--backend-cpu", gs.backend_cpu, "CPU of the backend loop")
      ->check(CLI::Range(0, 1023));
  gscmd->add_option("--generator-cpu", gs.generator_cpu, "CPU of the generator")
      ->check(CLI::Range(0, 1023));

  uvs::bench::DirtyLogBenchOptions dl;
  auto* dlcmd = app.add_subcommand(
      "dirty-log", "what live migration's dirty logging costs the vhost-user data path: Mpps and "
                   "backend ns/packet with logging off and on (in-repo frontends, both ways)");
  dlcmd->add_flag("--json", dl.json, "print JSON instead of a table");
  dlcmd->add_option("--repeats", dl.repeats, "runs per figure; the median is reported")
      ->check(CLI::Range(1, 100));
  dlcmd->add_option("--seconds", dl.seconds, "measured interval of each run")
      ->check(CLI::Range(0.2, 60.0));
  dlcmd->add_option("--sizes", dl.sizes, "frame sizes in bytes, FCS included")
      ->check(CLI::Range(64, 2040));
  dlcmd->add_option("--backend-cpu", dl.backend_cpu, "CPU of the backend loop")
      ->check(CLI::Range(0, 1023));
  dlcmd->add_option("--generator-cpu", dl.generator_cpu, "CPU of the generator")
      ->check(CLI::Range(0, 1023));

  uvs::bench::SwitchBenchOptions sw;
  auto* swcmd = app.add_subcommand(
      "switch", "the uvswitch daemon forwarding learned unicast between two vhost-user ports "
                "(testpmd generator), testpmd's vhost PMD beside it, and idle CPU with two guests");
  swcmd->add_flag("--json", sw.json, "print JSON instead of a table");
  swcmd->add_option("--repeats", sw.repeats, "runs per figure; the median is reported")
      ->check(CLI::Range(1, 100));
  swcmd->add_option("--seconds", sw.seconds, "measured interval of each run")
      ->check(CLI::Range(0.2, 60.0));
  auto* sw_warmup = swcmd->add_option("--warmup", sw.warmup_seconds,
                                      "traffic before each measured interval (default 1 s; 3 s "
                                      "when --queues names more than 1)")
                        ->check(CLI::Range(0.1, 30.0));
  swcmd->add_option("--sizes", sw.sizes, "frame sizes in bytes, FCS included (64..1518)")
      ->delimiter(',')
      ->check(CLI::Range(64, 1518));
  swcmd->add_option("--threads", sw.threads, "daemon --threads values to measure")
      ->delimiter(',')
      ->check(CLI::Range(1, 64));
  swcmd->add_option("--queues", sw.queues,
                    "queue pairs per port to measure (generator, daemon and baseline alike); with "
                    "N > 1 the daemon's --threads T spreads them as threads=0:..:T-1")
      ->delimiter(',')
      ->check(CLI::Range(1u, 16u));
  swcmd->add_option("--rings", sw.rings, "virtqueue layouts to measure: split, packed, or both")
      ->delimiter(',')
      ->check(CLI::IsMember({"split", "packed"}));
  swcmd->add_option("--testpmd", sw.testpmd, "dpdk-testpmd binary (name in PATH, or a path)");
  swcmd->add_option("--uvswitch", sw.uvswitch,
                    "the daemon binary (default: ../uvswitch/uvswitch beside this program)");
  swcmd->add_option("--qemu", sw.qemu, "QEMU binary for the idle guests");
  swcmd->add_option("--guest-dir", sw.guest_dir,
                    "guest image cache (default: ../../guest beside this program, as the tests)");
  swcmd->add_option("--generator-cpu", sw.generator_cpu, "CPU of the generator's forwarding lcore")
      ->check(CLI::Range(0, 1023));
  swcmd->add_option("--backend-cpu", sw.backend_cpu,
                    "CPU of the baseline's forwarding lcore (and the daemon's, by default)")
      ->check(CLI::Range(0, 1023));
  swcmd->add_option("--daemon-cpus", sw.daemon_cpus, "CPU mask of the daemon (default: backend CPU)")
      ->delimiter(',')
      ->check(CLI::Range(0, 1023));
  swcmd->add_option("--daemon-thread-cpus", sw.daemon_thread_cpus,
                    "pin the daemon's I/O thread k to the k-th CPU listed (default: each free "
                    "within --daemon-cpus)")
      ->delimiter(',')
      ->check(CLI::Range(0, 1023));
  swcmd->add_option("--poll-max-ns", sw.poll_max_ns, "the daemon's --poll-max-ns (default: its own)")
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000'000}));
  swcmd->add_option("--idle-seconds", sw.idle_seconds,
                    "idle-CPU measurement per thread count with two guests (0: skip)")
      ->check(CLI::Range(0.0, 600.0));

  uvs::bench::CaptureBenchOptions cap;
  auto* capcmd = app.add_subcommand(
      "capture", "the daemon's forwarding rate with no capture, a capture, and a filtered capture "
                 "(testpmd generator), in one run");
  capcmd->add_flag("--json", cap.json, "print JSON instead of a table");
  capcmd->add_option("--repeats", cap.repeats, "runs per configuration; medians are reported")
      ->check(CLI::Range(1, 100));
  capcmd->add_option("--seconds", cap.seconds, "measured interval of each run")
      ->check(CLI::Range(0.2, 60.0));
  capcmd->add_option("--size", cap.size, "frame size in bytes, FCS included")
      ->check(CLI::Range(64u, 1518u));
  capcmd->add_option("--testpmd", cap.testpmd, "dpdk-testpmd binary");
  capcmd->add_option("--uvswitch", cap.uvswitch, "the daemon binary");

  CLI11_PARSE(app, argc, argv);
  if (capcmd->parsed()) return uvs::bench::run_capture_bench(cap);
  if (swcmd->parsed()) {
    if (sw.backend_cpu == sw.generator_cpu) {
      std::fprintf(stderr, "--backend-cpu and --generator-cpu must differ\n");
      return 2;
    }
    // Under load, a daemon thread serving several queue pairs was seen to need more than a
    // second after `start tx_first` to reach its rate (docs/PERFORMANCE.md, Multi-queue).
    const bool multi_queue =
        std::any_of(sw.queues.begin(), sw.queues.end(), [](unsigned q) { return q > 1; });
    if (multi_queue && sw_warmup->count() == 0) sw.warmup_seconds = 3.0;
    return uvs::bench::run_switch_bench(sw);
  }
  if (evcmd->parsed()) return uvs::bench::run_eventloop_bench(ev);
  if (gscmd->parsed()) {
    if (gs.backend_cpu == gs.generator_cpu) {
      std::fprintf(stderr, "--backend-cpu and --generator-cpu must differ\n");
      return 2;
    }
    return uvs::bench::run_gso_bench(gs);
  }
  if (dlcmd->parsed()) {
    if (dl.backend_cpu == dl.generator_cpu) {
      std::fprintf(stderr, "--backend-cpu and --generator-cpu must differ\n");
      return 2;
    }
    return uvs::bench::run_dirty_log_bench(dl);
  }
  if (nbcmd->parsed()) {
    if (nb.backend_cpu == nb.generator_cpu) {
      std::fprintf(stderr, "--backend-cpu and --generator-cpu must differ\n");
      return 2;
    }
    return uvs::bench::run_netback_bench(nb);
  }
  return 2;
}
