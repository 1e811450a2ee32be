// SPDX-License-Identifier: MIT
// The switch benchmark's driver: interleaved runs, medians, ratios to the baseline, the tables.
#include "tools/bench/switch_bench.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tools/bench/idle_guests.h"
#include "tools/bench/interrupt_guard.h"
#include "tools/bench/net_run_result.h"
#include "tools/bench/run_env.h"
#include "tools/bench/stats_util.h"
#include "tools/bench/switch_load.h"
#include "tools/bench/testpmd_load.h"
#include "tools/bench/testpmd_process.h"

#ifndef UVS_SOURCE_DIR
#error "UVS_SOURCE_DIR must name the repo (tools/guest/ builds the idle guests)"
#endif

namespace uvs::bench {
namespace {

/// Medians over the successful runs of one configuration.
struct Summary {
  int runs = 0, ok_runs = 0;
  std::string first_error;
  double pps[2] = {0, 0};
  double cpu_ns_per_packet = 0, core_share = 0, dropped = 0;
  // The daemon only: median shares of the frames its ports sent, per I/O thread and per queue
  // pair, and the share that crossed to another thread's ring.
  std::vector<double> thread_share, queue_share;
  double cross_share = 0;
};

/// Median over `runs` of each index's share of that run's total in `field`.
std::vector<double> median_shares(const std::vector<const NetRunResult*>& runs,
                                  std::vector<uint64_t> NetRunResult::*field) {
  size_t n = 0;
  for (const NetRunResult* r : runs) n = std::max(n, (r->*field).size());
  std::vector<double> out(n, 0);
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> v;
    for (const NetRunResult* r : runs) {
      const auto& f = r->*field;
      uint64_t total = 0;
      for (uint64_t x : f) total += x;
      if (total > 0) v.push_back(i < f.size() ? double(f[i]) / double(total) : 0);
    }
    out[i] = median(v);
  }
  return out;
}

Summary summarize(const std::vector<NetRunResult>& runs) {
  Summary s;
  s.runs = int(runs.size());
  std::vector<double> p0, p1, cpu, core, drop, cross;
  std::vector<const NetRunResult*> ok;
  for (const auto& r : runs) {
    if (!r.ok()) {
      if (s.first_error.empty()) s.first_error = r.error;
      continue;
    }
    ++s.ok_runs;
    p0.push_back(r.pps[0]);
    p1.push_back(r.pps[1]);
    cpu.push_back(r.backend_cpu_ns_per_packet);
    core.push_back(r.backend_core_share);
    drop.push_back(double(r.dropped));
    uint64_t sent = 0;
    for (uint64_t x : r.thread_frames) sent += x;
    if (sent > 0) cross.push_back(double(r.cross_thread) / double(sent));
    ok.push_back(&r);
  }
  if (s.ok_runs == 0) return s;
  s.pps[0] = median(p0);
  s.pps[1] = median(p1);
  s.cpu_ns_per_packet = median(cpu);
  s.core_share = median(core);
  s.dropped = median(drop);
  s.thread_share = median_shares(ok, &NetRunResult::thread_frames);
  s.queue_share = median_shares(ok, &NetRunResult::queue_frames);
  s.cross_share = median(cross);
  return s;
}

nlohmann::json run_json(const NetRunResult& r, uint32_t len) {
  if (!r.ok()) return {{"error", r.error}};
  return {{"mpps", {r.pps[0] / 1e6, r.pps[1] / 1e6}},
          {"gbit_s", {gbit_per_s(r.pps[0], len), gbit_per_s(r.pps[1], len)}},
          {"cpu_ns_per_packet", r.backend_cpu_ns_per_packet},
          {"core_share", r.backend_core_share},
          {"dropped", r.dropped}};
}

nlohmann::json summary_json(const Summary& s, uint32_t len) {
  nlohmann::json j = {{"runs", s.runs}, {"ok_runs", s.ok_runs}};
  if (!s.first_error.empty()) j["first_error"] = s.first_error;
  if (s.ok_runs == 0) return j;
  j["mpps"] = {s.pps[0] / 1e6, s.pps[1] / 1e6};
  j["gbit_s"] = {gbit_per_s(s.pps[0], len), gbit_per_s(s.pps[1], len)};
  j["cpu_ns_per_packet"] = s.cpu_ns_per_packet;
  j["core_share"] = s.core_share;
  j["dropped"] = s.dropped;
  if (!s.thread_share.empty()) {
    j["thread_share"] = s.thread_share;
    j["queue_share"] = s.queue_share;
    j["cross_thread_share"] = s.cross_share;
  }
  return j;
}

std::string exe_dir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

/// One measured row group: a frame size on one ring layout with one queue count, the daemon
/// at each thread count that fits it, and the baseline.
struct Case {
  uint32_t size;                 ///< counting the FCS
  bool packed;                   ///< packed virtqueues (virtio 1.1), else split
  unsigned queues;               ///< queue pairs per port
  bool show_queues;              ///< whether the label names the queue count
  std::vector<unsigned> threads;  ///< daemon --threads values measured for this case
  std::string label() const {
    return std::to_string(size) + " B " + (packed ? "packed" : "split") +
           (show_queues ? " q" + std::to_string(queues) : "");
  }
};

std::string cpu_list(const std::vector<int>& cpus) {
  std::string s;
  for (int c : cpus) s += (s.empty() ? "" : ",") + std::to_string(c);
  return s.empty() ? "any" : s;
}

/// `text` broken at spaces into lines of at most `width` characters, each after `indent`.
std::string wrap(const std::string& text, size_t width, const std::string& indent) {
  std::string out, line;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(' ', at);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(at, end - at);
    if (!line.empty() && indent.size() + line.size() + 1 + word.size() > width) {
      out += indent + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    at = end + 1;
  }
  if (!line.empty()) out += indent + line + "\n";
  return out;
}

/// The CPUs the daemon's first `threads` I/O threads may run on: their pins, and the process
/// mask for any thread beyond the pins.
std::vector<int> io_thread_cpus(const SwitchBenchOptions& o, unsigned threads) {
  std::vector<int> cpus;
  for (unsigned t = 0; t < threads; ++t) {
    if (t < o.daemon_thread_cpus.size()) {
      cpus.push_back(o.daemon_thread_cpus[t]);
    } else {
      cpus.insert(cpus.end(), o.daemon_cpus.begin(), o.daemon_cpus.end());
    }
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

/// What the CPU placement means for the rows with more than one daemon thread, in one sentence
/// (empty when no such row is measured).
std::string multi_thread_note(const SwitchBenchOptions& o) {
  unsigned most = 1;
  for (unsigned t : o.threads) most = std::max(most, t);
  if (most < 2) return {};
  const std::vector<int> cpus = io_thread_cpus(o, most);
  if (cpus.size() == 1) {
    return "Rows with more than one daemon thread keep them all on CPU " + cpu_list(cpus) +
           ": they show what splitting the work costs; there is no second core to gain.";
  }
  const bool shares = std::find(cpus.begin(), cpus.end(), o.generator_cpu) != cpus.end();
  std::string n = "Rows with more than one daemon thread run them on CPUs " + cpu_list(cpus) +
                  ", against the baseline's one forwarding lcore on CPU " +
                  std::to_string(o.backend_cpu);
  if (shares) {
    n += "; CPU " + std::to_string(o.generator_cpu) +
         " is the generator's too, so what the second thread gains it takes from the generator";
  }
  return n + ".";
}

}  // namespace

int run_switch_bench(SwitchBenchOptions opts) {
  install_interrupt_guard();
  if (std::thread::hardware_concurrency() < 2) {
    std::fprintf(stderr, "uvswitch-bench switch: needs two CPUs (generator and switch)\n");
    return 2;
  }
  const std::string testpmd = find_testpmd(opts.testpmd);
  if (testpmd.empty()) {
    std::fprintf(stderr, "uvswitch-bench switch: '%s' not found (tools/install-deps.sh)\n",
                 opts.testpmd.c_str());
    return 2;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "uvswitch-bench switch: DPDK's EAL needs root here (/var/run/dpdk)\n");
    return 2;
  }
  // Every CPU named must be one this process may use, or a run would fail only once started.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) CPU_ZERO(&allowed);
  std::vector<int> named = {opts.generator_cpu, opts.backend_cpu};
  named.insert(named.end(), opts.daemon_cpus.begin(), opts.daemon_cpus.end());
  named.insert(named.end(), opts.daemon_thread_cpus.begin(), opts.daemon_thread_cpus.end());
  for (int c : named) {
    if (c >= CPU_SETSIZE || !CPU_ISSET(c, &allowed)) {
      std::fprintf(stderr, "uvswitch-bench switch: CPU %d is not one this process may run on\n", c);
      return 2;
    }
  }
  const std::string here = exe_dir();
  if (opts.uvswitch.empty()) opts.uvswitch = here + "/../uvswitch/uvswitch";
  if (::access(opts.uvswitch.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "uvswitch-bench switch: no daemon at %s (--uvswitch)\n",
                 opts.uvswitch.c_str());
    return 2;
  }
  if (opts.guest_dir.empty()) opts.guest_dir = here + "/../../guest";
  if (opts.daemon_cpus.empty()) opts.daemon_cpus = {opts.backend_cpu};
  std::string qemu;
  if (opts.idle_seconds > 0) {
    qemu = find_testpmd(opts.qemu);  // a PATH lookup like any other
    if (qemu.empty()) {
      std::fprintf(stderr, "uvswitch-bench switch: '%s' not found (--idle-seconds 0 skips)\n",
                   opts.qemu.c_str());
      return 2;
    }
  }

  const std::string base = make_base_dir("switch");
  if (base.empty()) return 1;
  const std::string load_before = load_average();
  // Layout outermost, then queue count, so a table reads as one block per layout.
  const bool show_queues = opts.queues.size() > 1 || opts.queues[0] > 1;
  std::vector<Case> cases;
  for (const auto& ring : opts.rings) {
    for (unsigned q : opts.queues) {
      std::vector<unsigned> threads;
      // More threads than queue pairs is refused by the daemon (README "Multi-queue across
      // threads"); with one queue pair the threads split the two ports instead.
      for (unsigned t : opts.threads) {
        if (q == 1 || t <= q) {
          threads.push_back(t);
        } else {
          std::fprintf(stderr, "  skipped: %u threads for %u queue pairs (more threads than "
                       "queues)\n", t, q);
        }
      }
      for (uint32_t size : opts.sizes) {
        cases.push_back({size, ring == "packed", q, show_queues, threads});
      }
    }
  }
  // results[case][k]: k < threads.size() is the daemon with threads[k], the last the baseline.
  std::vector<std::vector<std::vector<NetRunResult>>> res(cases.size());
  for (size_t si = 0; si < cases.size(); ++si) res[si].resize(cases[si].threads.size() + 1);
  int run_no = 0;
  // Interleaved (repeat, case, configuration): load from other work on this shared machine then
  // falls on every configuration alike instead of on whichever ran during a busy stretch.
  for (int rep = 0; rep < opts.repeats && !interrupted(); ++rep) {
    for (size_t si = 0; si < cases.size() && !interrupted(); ++si) {
      const size_t nt = cases[si].threads.size();
      for (size_t k = 0; k <= nt && !interrupted(); ++k) {
        RunDir dir(base, run_no);
        TestpmdLoadOptions to;
        to.testpmd = testpmd;
        to.dir = dir.path();
        to.prefix = "uvsbench-" + std::to_string(getpid()) + "-" + std::to_string(run_no++);
        to.frame_len = cases[si].size - 4;
        to.warmup_s = opts.warmup_seconds;
        to.seconds = opts.seconds;
        to.generator_cpu = opts.generator_cpu;
        to.backend_cpu = opts.backend_cpu;
        to.poll_max_ns = opts.poll_max_ns;
        to.packed_rings = cases[si].packed;
        to.huge_dir = opts.huge_dir;
        to.queues = cases[si].queues;
        NetRunResult r;
        std::string what;
        if (k < nt) {
          SwitchRunOptions so;
          so.uvswitch = opts.uvswitch;
          so.threads = cases[si].threads[k];
          so.queues = cases[si].queues;
          so.daemon_cpus = opts.daemon_cpus;
          so.thread_cpus = opts.daemon_thread_cpus;
          r = run_testpmd_switch(to, so);
          what = "uvswitch --threads " + std::to_string(so.threads);
        } else {
          r = run_testpmd_baseline(to);
          what = "testpmd vhost PMD";
        }
        std::fprintf(stderr, "  [%d/%d] %-16s %-22s %s\n", rep + 1, opts.repeats,
                     cases[si].label().c_str(), what.c_str(),
                     r.ok() ? (std::to_string(r.total_pps() / 1e6).substr(0, 6) + " Mpps").c_str()
                            : ("FAILED: " + r.error).c_str());
        res[si][k].push_back(std::move(r));
      }
    }
  }

  std::vector<IdleResult> idle;
  if (opts.idle_seconds > 0 && !interrupted()) {
    RunDir dir(base, run_no++);
    IdleGuestsOptions io;
    io.uvswitch = opts.uvswitch;
    io.qemu = qemu;
    io.source_dir = UVS_SOURCE_DIR;
    io.guest_dir = opts.guest_dir;
    io.dir = dir.path();
    io.threads = opts.threads;
    io.daemon_cpus = opts.daemon_cpus;
    io.seconds = opts.idle_seconds;
    std::fprintf(stderr, "  idle: booting two guests, then %.0f s per thread count\n",
                 opts.idle_seconds);
    idle = run_idle_guests(io);
  }
  std::error_code ec;
  std::filesystem::remove_all(base, ec);
  if (interrupted()) {
    std::fprintf(stderr, "interrupted: children killed, temporary files removed\n");
    return 130;
  }

  // ---- report ----
  bool all_ok = true;
  nlohmann::json out;
  out["benchmark"] = "switch";
  out["repeats"] = opts.repeats;
  out["seconds"] = opts.seconds;
  out["warmup_seconds"] = opts.warmup_seconds;
  out["machine"] = {{"cpu", cpu_model()},
                    {"cpus", std::thread::hardware_concurrency()},
                    {"load_before", load_before},
                    {"load_after", load_average()}};
  out["generator_cpu"] = opts.generator_cpu;
  out["baseline_cpu"] = opts.backend_cpu;
  out["daemon_cpus"] = opts.daemon_cpus;
  out["daemon_thread_cpus"] = opts.daemon_thread_cpus;
  const std::string mt_note = multi_thread_note(opts);
  if (!mt_note.empty()) out["placement_note"] = mt_note;
  std::vector<std::vector<Summary>> sums(cases.size());
  // ratio[case][k]: median over repeats of (daemon with threads[k]) / (baseline of that repeat).
  std::vector<std::vector<double>> ratio(cases.size());
  for (size_t si = 0; si < cases.size(); ++si) {
    const uint32_t len = cases[si].size - 4;
    const size_t nt = cases[si].threads.size();
    sums[si].resize(nt + 1);
    ratio[si].assign(nt, -1);
    nlohmann::json row = {{"frame_size", cases[si].size},
                          {"rings", cases[si].packed ? "packed" : "split"},
                          {"queues", cases[si].queues},
                          {"frame_bytes_carried", len}};
    for (size_t k = 0; k <= nt; ++k) {
      sums[si][k] = summarize(res[si][k]);
      if (sums[si][k].ok_runs != sums[si][k].runs) all_ok = false;
      nlohmann::json j = summary_json(sums[si][k], len);
      for (const auto& r : res[si][k]) j["each_run"].push_back(run_json(r, len));
      if (k < nt) {
        std::vector<double> rs;
        const auto& bl = res[si][nt];
        for (size_t rep = 0; rep < res[si][k].size() && rep < bl.size(); ++rep) {
          const auto& u = res[si][k][rep];
          if (u.ok() && bl[rep].ok() && bl[rep].total_pps() > 0) {
            rs.push_back(u.total_pps() / bl[rep].total_pps());
          }
        }
        if (!rs.empty()) ratio[si][k] = median(rs);
        if (ratio[si][k] >= 0) j["ratio_to_baseline"] = ratio[si][k];
        SwitchRunOptions so;
        so.threads = cases[si].threads[k];
        so.queues = cases[si].queues;
        j["threads"] = so.threads;
        j["port_specs"] = switch_port_specs("DIR", so);
        row["uvswitch"].push_back(j);
      } else {
        row["testpmd_vhost_pmd"] = j;
      }
    }
    out["sizes"].push_back(row);
  }
  for (const auto& r : idle) {
    if (!r.ok()) all_ok = false;
    nlohmann::json j = {{"threads", r.threads}};
    if (r.ok()) {
      j["seconds"] = r.seconds;
      j["core_share"] = r.core_share;
      j["guest_frames"] = r.guest_frames;
    } else {
      j["error"] = r.error;
    }
    out["idle"].push_back(j);
  }

  // testpmd's forwarding lcore polls without pause: below ~90 % of its core it was not given
  // the CPU, and the ratios compare two starved backends rather than two capacities.
  double min_share = 2;
  for (size_t si = 0; si < cases.size(); ++si) {
    const Summary& b = sums[si].back();
    if (b.ok_runs > 0) min_share = std::min(min_share, b.core_share);
  }
  if (min_share < 0.9) out["warning"] = "baseline starved of CPU: not capacity figures";

  if (opts.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return all_ok ? 0 : 1;
  }

  std::printf("uvswitch-bench switch: median of %d runs, %.1f s each after %.1f s warm-up\n",
              opts.repeats, opts.seconds, opts.warmup_seconds);
  std::printf("machine: %s, %u CPUs; load average %s before, %s after\n", cpu_model().c_str(),
              std::thread::hardware_concurrency(), load_before.c_str(),
              out["machine"]["load_after"].get<std::string>().c_str());
  std::string thread_pins = "I/O threads each free within that mask";
  if (!opts.daemon_thread_cpus.empty()) {
    thread_pins = "I/O threads pinned:";
    for (size_t t = 0; t < opts.daemon_thread_cpus.size(); ++t) {
      thread_pins += (t ? ", uvs-io" : " uvs-io") + std::to_string(t) + " on CPU " +
                     std::to_string(opts.daemon_thread_cpus[t]);
    }
  }
  std::printf("CPUs: generator (testpmd virtio-user, mac forwarding, closed loop seeded by start "
              "tx_first 8):\n  forwarding lcore on CPU %d\ndaemon: process mask CPUs %s; %s\n"
              "baseline (testpmd vhost PMD, io forwarding): one forwarding lcore on CPU %d\n"
              "Sizes count a 4-byte FCS the rings do not carry. Rates are A->B / B->A.\n",
              opts.generator_cpu, cpu_list(opts.daemon_cpus).c_str(), thread_pins.c_str(),
              opts.backend_cpu);
  if (show_queues) {
    std::printf("%s", wrap("qN: N queue pairs on every port: the generator's (virtio-user queues=N, "
                           "--rxq/--txq=N, --txonly-multi-flow, one lcore for all), the "
                           "baseline's (net_vhost queues=N, one lcore) and the daemon's: with 1 "
                           "thread queues=N,thread=0; with T threads queues=N,threads=0:..:T-1 on "
                           "both ports, so queue pair p of either port is on thread p mod T and "
                           "frames stay on their thread. With q1 and 2 threads port a is on thread "
                           "0 and port b on thread 1 (a cross-thread ring).",
                           96, "").c_str());
  }
  if (!mt_note.empty()) std::printf("%s", wrap(mt_note, 96, "").c_str());
  std::printf("\n1. Forwarding learned unicast between two vhost-user ports\n");
  std::printf("  %-16s %-22s %-19s %-13s %8s %6s %7s\n", "size, rings", "backend", "Mpps",
              "Gbit/s", "ns/pkt", "core%", "ratio");
  for (size_t si = 0; si < cases.size(); ++si) {
    const uint32_t len = cases[si].size - 4;
    const size_t nt = cases[si].threads.size();
    for (size_t k = 0; k <= nt; ++k) {
      const Summary& s = sums[si][k];
      const unsigned t = k < nt ? cases[si].threads[k] : 0;
      const std::string name = k < nt ? "uvswitch, " + std::to_string(t) +
                                            (t == 1 ? " thread" : " threads")
                                      : "testpmd vhost PMD (io)";
      if (s.ok_runs == 0) {
        std::printf("  %-16s %-22s failed: %s\n", cases[si].label().c_str(), name.c_str(),
                    s.first_error.c_str());
        continue;
      }
      char mpps[48], gbps[48], rat[16] = "1";
      std::snprintf(mpps, sizeof mpps, "%.3f / %.3f", s.pps[0] / 1e6, s.pps[1] / 1e6);
      std::snprintf(gbps, sizeof gbps, "%.2f / %.2f", gbit_per_s(s.pps[0], len),
                    gbit_per_s(s.pps[1], len));
      if (k < nt) {
        if (ratio[si][k] >= 0) {
          std::snprintf(rat, sizeof rat, "%.2fx", ratio[si][k]);
        } else {
          std::snprintf(rat, sizeof rat, "-");
        }
      }
      std::printf("  %-16s %-22s %-19s %-13s %8.0f %6.0f %7s\n", cases[si].label().c_str(),
                  name.c_str(), mpps, gbps, s.cpu_ns_per_packet, s.core_share * 100, rat);
      if (s.ok_runs != s.runs) {
        std::printf("         %d of %d runs failed: %s\n", s.runs - s.ok_runs, s.runs,
                    s.first_error.c_str());
      }
      if (s.dropped > 0) std::printf("         dropped %.0f frames (median)\n", s.dropped);
      if (k < nt && (t > 1 || cases[si].queues > 1) && !s.thread_share.empty()) {
        std::string spread;
        for (size_t i = 0; i < s.thread_share.size(); ++i) {
          spread += " t" + std::to_string(i) + " " +
                    std::to_string(int(s.thread_share[i] * 100 + 0.5)) + "%";
        }
        spread += ", per queue pair";
        for (size_t i = 0; i < s.queue_share.size(); ++i) {
          spread += " q" + std::to_string(i) + " " +
                    std::to_string(int(s.queue_share[i] * 100 + 0.5)) + "%";
        }
        std::printf("         frames sent per thread%s; via another thread's ring %.0f%%\n",
                    spread.c_str(), s.cross_share * 100);
      }
    }
    std::printf("         each run, Mpps both ways:");
    for (size_t k = 0; k <= nt; ++k) {
      std::printf(" %s", k < nt ? ("t" + std::to_string(cases[si].threads[k])).c_str() : "| PMD");
      for (const auto& r : res[si][k]) {
        if (r.ok()) {
          std::printf(" %.2f", r.total_pps() / 1e6);
        } else {
          std::printf(" fail");
        }
      }
    }
    std::printf("\n");
  }
  if (min_share < 0.9) {
    std::printf("  WARNING: the baseline's busy-polling lcore got only %.0f%% of its core: other "
                "work\n  held the CPUs, so these are not capacity figures (see docs/PERFORMANCE.md, "
                "Switch).\n", min_share * 100);
  }
  std::printf("  ns/pkt: backend CPU time (all its threads) per frame it forwarded; core%%: that "
              "CPU\n  as %% of one core (above 100: more than one CPU); ratio: both directions "
              "summed, over\n  the baseline of the same repeat (median of the per-repeat "
              "ratios).\n");
  if (opts.idle_seconds > 0) {
    std::printf("\n2. Idle: daemon CPU with two connected idle QEMU guests (TCG, IPv6 off), "
                "%.0f s\n", opts.idle_seconds);
    std::printf("  %-8s %-14s %-10s %s\n", "threads", "% of one core", "CPU ms",
                "frames from guests meanwhile");
    for (const auto& r : idle) {
      if (!r.ok()) {
        std::printf("  %-8u failed: %s\n", r.threads, r.error.c_str());
        continue;
      }
      std::printf("  %-8u %-14.4f %-10.2f %.0f\n", r.threads, r.core_share * 100,
                  r.core_share * r.seconds * 1000, r.guest_frames);
    }
  }
  return all_ok ? 0 : 1;
}

}  // namespace uvs::bench
