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

namespace {

constexpr const char* kRepeatsHelp = "runs per figure; the median is reported";

// Each helper binds its options to the fields of the same name in the subcommand's options
// struct, so a subcommand's help lists them in the order it calls the helpers.

/// Adds --json, which every subcommand has.
template <class Options>
void add_json(CLI::App* cmd, Options& o) {
  cmd->add_flag("--json", o.json, "print JSON instead of a table");
}

/// Adds --repeats: the interleaved runs each median is taken over (1..100).
template <class Options>
void add_repeats(CLI::App* cmd, Options& o, const char* help = kRepeatsHelp) {
  cmd->add_option("--repeats", o.repeats, help)->check(CLI::Range(1, 100));
}

/// Adds --json, --repeats and --seconds, in that order: the options every subcommand that
/// measures traffic opens with.
template <class Options>
void add_run_options(CLI::App* cmd, Options& o, const char* repeats_help = kRepeatsHelp) {
  add_json(cmd, o);
  add_repeats(cmd, o, repeats_help);
  cmd->add_option("--seconds", o.seconds, "measured interval of each run")
      ->check(CLI::Range(0.2, 60.0));
}

/// Adds --warmup (0.1..30 s) and returns it, so a caller can tell whether it was given.
template <class Options>
CLI::Option* add_warmup(CLI::App* cmd, Options& o,
                        const char* help = "traffic before each measured interval") {
  return cmd->add_option("--warmup", o.warmup_seconds, help)->check(CLI::Range(0.1, 30.0));
}

/// Adds --testpmd, the dpdk-testpmd binary a subcommand runs as generator or baseline.
template <class Options>
void add_testpmd(CLI::App* cmd, Options& o) {
  cmd->add_option("--testpmd", o.testpmd, "dpdk-testpmd binary (name in PATH, or a path)");
}

/// Adds --testpmd and --uvswitch: the generator and the daemon a daemon benchmark runs.
template <class Options>
void add_daemon_binaries(CLI::App* cmd, Options& o) {
  add_testpmd(cmd, o);
  cmd->add_option("--uvswitch", o.uvswitch,
                  "the daemon binary (default: ../uvswitch/uvswitch beside this program)");
}

/// Adds --backend-cpu and --generator-cpu (0..1023); cpus_apart() checks them after parsing.
template <class Options>
void add_cpus(CLI::App* cmd, Options& o, const char* backend_help, const char* generator_help) {
  cmd->add_option("--backend-cpu", o.backend_cpu, backend_help)->check(CLI::Range(0, 1023));
  cmd->add_option("--generator-cpu", o.generator_cpu, generator_help)->check(CLI::Range(0, 1023));
}

/// Whether the backend and the generator are on different CPUs, as every figure assumes (one
/// core each); prints why not to stderr when they share one.
template <class Options>
bool cpus_apart(const Options& o) {
  if (o.backend_cpu != o.generator_cpu) return true;
  std::fprintf(stderr, "--backend-cpu and --generator-cpu must differ\n");
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvswitch benchmarks: each prints a table (or --json)"};
  app.require_subcommand(1);

  uvs::bench::EventLoopBenchOptions ev;
  auto* evcmd = app.add_subcommand(
      "eventloop", "wake-up latency, dispatch cost vs idle fd count (epoll/ppoll), idle CPU");
  add_json(evcmd, ev);
  evcmd->add_option("--samples", ev.wake_samples, "wake-up samples per configuration")
      ->check(CLI::Range(100, 10'000'000));
  add_repeats(evcmd, ev);
  evcmd->add_option("--idle-seconds", ev.idle_seconds, "length of the idle-CPU measurement")
      ->check(CLI::Range(0.1, 600.0));

  uvs::bench::NetbackBenchOptions nb;
  auto* nbcmd = app.add_subcommand(
      "netback",
      "vhost-user data path: Mpps, Gbit/s, CPU/packet, latency; testpmd's vhost PMD "
      "measured beside it");
  add_run_options(nbcmd, nb);
  add_warmup(nbcmd, nb);
  nbcmd->add_option("--sizes", nb.sizes, "frame sizes in bytes, FCS included (64..1518)")
      ->delimiter(',')
      ->check(CLI::Range(64, 1518));
  add_testpmd(nbcmd, nb);
  nbcmd->add_flag("--no-testpmd", nb.skip_testpmd, "skip the testpmd generator and baseline");
  nbcmd->add_flag("--no-frontend", nb.skip_frontend, "skip the in-repo generator");
  add_cpus(nbcmd, nb, "CPU of the backend loop / baseline lcore", "CPU of the generators");
  nbcmd
      ->add_option("--poll-max-ns", nb.poll_max_ns,
                   "busy-poll ceiling of our backend loop (0: no polling; default: the loop's)")
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000'000}));
  nbcmd
      ->add_option("--ping-samples", nb.ping_samples,
                   "one-frame-in-flight latency samples per size and run (0: none)")
      ->check(CLI::Range(0, 10'000'000));

  uvs::bench::GsoBenchOptions gs;
  auto* gscmd = app.add_subcommand(
      "gso",
      "vhost-user to vhost-user with 64 KiB TSO frames (in-repo frontend), beside the same "
      "bytes as MTU-size plain frames: Gbit/s and backend CPU per Gbit");
  add_run_options(gscmd, gs);
  gscmd->add_option("--mss", gs.mss, "gso_size of the superframes")->check(CLI::Range(536, 9000));
  add_cpus(gscmd, gs, "CPU of the backend loop", "CPU of the generator");

  uvs::bench::DirtyLogBenchOptions dl;
  auto* dlcmd = app.add_subcommand(
      "dirty-log",
      "what live migration's dirty logging costs the vhost-user data path: Mpps and "
      "backend ns/packet with logging off and on (in-repo frontends, both ways)");
  add_run_options(dlcmd, dl);
  dlcmd->add_option("--sizes", dl.sizes, "frame sizes in bytes, FCS included")
      ->check(CLI::Range(64, 2040));
  add_cpus(dlcmd, dl, "CPU of the backend loop", "CPU of the generator");

  uvs::bench::SwitchBenchOptions sw;
  auto* swcmd = app.add_subcommand(
      "switch",
      "the uvswitch daemon forwarding learned unicast between two vhost-user ports "
      "(testpmd generator), testpmd's vhost PMD beside it, and idle CPU with two guests");
  add_run_options(swcmd, sw);
  auto* sw_warmup = add_warmup(swcmd, sw,
                               "traffic before each measured interval (default 1 s; 3 s when "
                               "--queues names more than 1)");
  swcmd->add_option("--sizes", sw.sizes, "frame sizes in bytes, FCS included (64..1518)")
      ->delimiter(',')
      ->check(CLI::Range(64, 1518));
  swcmd->add_option("--threads", sw.threads, "daemon --threads values to measure")
      ->delimiter(',')
      ->check(CLI::Range(1, 64));
  swcmd
      ->add_option("--queues", sw.queues,
                   "queue pairs per port to measure (generator, daemon and baseline alike); with "
                   "N > 1 the daemon's --threads T spreads them as threads=0:..:T-1")
      ->delimiter(',')
      ->check(CLI::Range(1u, 16u));
  swcmd->add_option("--rings", sw.rings, "virtqueue layouts to measure: split, packed, or both")
      ->delimiter(',')
      ->check(CLI::IsMember({"split", "packed"}));
  add_daemon_binaries(swcmd, sw);
  swcmd->add_option("--qemu", sw.qemu, "QEMU binary for the idle guests");
  swcmd->add_option("--guest-dir", sw.guest_dir,
                    "guest image cache (default: ../../guest beside this program, as the tests)");
  add_cpus(swcmd, sw, "CPU of the baseline's forwarding lcore (and the daemon's, by default)",
           "CPU of the generator's forwarding lcore");
  swcmd
      ->add_option("--daemon-cpus", sw.daemon_cpus, "CPU mask of the daemon (default: backend CPU)")
      ->delimiter(',')
      ->check(CLI::Range(0, 1023));
  swcmd
      ->add_option("--daemon-thread-cpus", sw.daemon_thread_cpus,
                   "pin the daemon's I/O thread k to the k-th CPU listed (default: each free "
                   "within --daemon-cpus)")
      ->delimiter(',')
      ->check(CLI::Range(0, 1023));
  swcmd->add_option("--huge-dir", sw.huge_dir,
                    "a mounted hugetlbfs for testpmd's memory, the guest memory the backends map "
                    "(default: --no-huge, 4 KiB pages)");
  swcmd
      ->add_option("--poll-max-ns", sw.poll_max_ns, "the daemon's --poll-max-ns (default: its own)")
      ->check(CLI::Range(int64_t{0}, int64_t{1'000'000'000}));
  swcmd
      ->add_option("--idle-seconds", sw.idle_seconds,
                   "idle-CPU measurement per thread count with two guests (0: skip)")
      ->check(CLI::Range(0.0, 600.0));

  uvs::bench::CaptureBenchOptions cap;
  auto* capcmd = app.add_subcommand(
      "capture",
      "the daemon's forwarding rate with no capture, a capture, and a filtered capture "
      "(testpmd generator), in one run");
  add_run_options(capcmd, cap, "runs per configuration; medians are reported");
  capcmd->add_option("--size", cap.size, "frame size in bytes, FCS included")
      ->check(CLI::Range(64u, 1518u));
  add_daemon_binaries(capcmd, cap);

  CLI11_PARSE(app, argc, argv);
  if (capcmd->parsed()) return uvs::bench::run_capture_bench(cap);
  if (swcmd->parsed()) {
    if (!cpus_apart(sw)) return 2;
    // Under load, a daemon thread serving several queue pairs was seen to need more than a
    // second after `start tx_first` to reach its rate (docs/PERFORMANCE.md, Multi-queue).
    const bool multi_queue =
        std::any_of(sw.queues.begin(), sw.queues.end(), [](unsigned q) { return q > 1; });
    if (multi_queue && sw_warmup->count() == 0) sw.warmup_seconds = 3.0;
    return uvs::bench::run_switch_bench(sw);
  }
  if (evcmd->parsed()) return uvs::bench::run_eventloop_bench(ev);
  if (gscmd->parsed()) return cpus_apart(gs) ? uvs::bench::run_gso_bench(gs) : 2;
  if (dlcmd->parsed()) return cpus_apart(dl) ? uvs::bench::run_dirty_log_bench(dl) : 2;
  if (nbcmd->parsed()) return cpus_apart(nb) ? uvs::bench::run_netback_bench(nb) : 2;
  return 2;
}
