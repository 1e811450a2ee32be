// SPDX-License-Identifier: MIT
// The netback benchmark's driver: runs the scenarios interleaved, takes medians, prints the tables.
#include "tools/bench/netback_bench.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tools/bench/frontend_load.h"
#include "tools/bench/interrupt_guard.h"
#include "tools/bench/net_run_result.h"
#include "tools/bench/run_env.h"
#include "tools/bench/stats_util.h"
#include "tools/bench/testpmd_load.h"
#include "tools/bench/testpmd_process.h"

namespace uvs::bench {
namespace {

enum class Scenario { kFrontendOneWay, kFrontendBothWays, kTestpmdUvswitch, kTestpmdBaseline };
constexpr int kScenarios = 4;

const char* scenario_key(Scenario s) {
  switch (s) {
    case Scenario::kFrontendOneWay: return "frontend_a_to_b";
    case Scenario::kFrontendBothWays: return "frontend_both_ways";
    case Scenario::kTestpmdUvswitch: return "testpmd_uvswitch";
    case Scenario::kTestpmdBaseline: return "testpmd_vhost_pmd";
  }
  return "?";
}

/// Medians over the successful runs of one scenario at one size.
struct Summary {
  int runs = 0;
  int ok_runs = 0;
  std::string first_error;
  double pps[2] = {0, 0};
  double cpu_ns_per_packet = 0;
  double core_share = 0;
  double dropped = 0;
  double lat_p50_ns = -1, lat_p99_ns = -1;
  double idle_p50_ns = -1, idle_p99_ns = -1;
};

Summary summarize(const std::vector<NetRunResult>& runs) {
  Summary s;
  s.runs = int(runs.size());
  std::vector<double> pps0, pps1, cpu, core, drop, p50, p99, i50, i99;
  for (const auto& r : runs) {
    if (!r.ok()) {
      if (s.first_error.empty()) s.first_error = r.error;
      continue;
    }
    ++s.ok_runs;
    pps0.push_back(r.pps[0]);
    pps1.push_back(r.pps[1]);
    cpu.push_back(r.backend_cpu_ns_per_packet);
    core.push_back(r.backend_core_share);
    drop.push_back(double(r.dropped));
    if (r.lat_p50_ns >= 0) p50.push_back(double(r.lat_p50_ns));
    if (r.lat_p99_ns >= 0) p99.push_back(double(r.lat_p99_ns));
    if (r.idle_lat_p50_ns >= 0) i50.push_back(double(r.idle_lat_p50_ns));
    if (r.idle_lat_p99_ns >= 0) i99.push_back(double(r.idle_lat_p99_ns));
  }
  if (s.ok_runs == 0) return s;
  s.pps[0] = median(pps0);
  s.pps[1] = median(pps1);
  s.cpu_ns_per_packet = median(cpu);
  s.core_share = median(core);
  s.dropped = median(drop);
  if (!p50.empty()) s.lat_p50_ns = median(p50);
  if (!p99.empty()) s.lat_p99_ns = median(p99);
  if (!i50.empty()) s.idle_p50_ns = median(i50);
  if (!i99.empty()) s.idle_p99_ns = median(i99);
  return s;
}

nlohmann::json to_json(const NetRunResult& r, uint32_t frame_len) {
  nlohmann::json j;
  if (!r.ok()) {
    j["error"] = r.error;
    return j;
  }
  j["mpps"] = {r.pps[0] / 1e6, r.pps[1] / 1e6};
  j["gbit_s"] = {gbit_per_s(r.pps[0], frame_len), gbit_per_s(r.pps[1], frame_len)};
  j["backend_cpu_ns_per_packet"] = r.backend_cpu_ns_per_packet;
  j["backend_core_share"] = r.backend_core_share;
  j["dropped"] = r.dropped;
  if (r.lat_p50_ns >= 0) j["latency_ns"] = {{"p50", r.lat_p50_ns}, {"p99", r.lat_p99_ns}};
  if (r.idle_lat_p50_ns >= 0) {
    j["idle_latency_ns"] = {{"p50", r.idle_lat_p50_ns}, {"p99", r.idle_lat_p99_ns}};
  }
  return j;
}

nlohmann::json to_json(const Summary& s, uint32_t frame_len) {
  nlohmann::json j;
  j["runs"] = s.runs;
  j["ok_runs"] = s.ok_runs;
  if (!s.first_error.empty()) j["first_error"] = s.first_error;
  if (s.ok_runs == 0) return j;
  j["mpps"] = {s.pps[0] / 1e6, s.pps[1] / 1e6};
  j["gbit_s"] = {gbit_per_s(s.pps[0], frame_len), gbit_per_s(s.pps[1], frame_len)};
  j["backend_cpu_ns_per_packet"] = s.cpu_ns_per_packet;
  j["backend_core_share"] = s.core_share;
  j["dropped"] = s.dropped;
  if (s.lat_p50_ns >= 0) j["latency_ns"] = {{"p50", s.lat_p50_ns}, {"p99", s.lat_p99_ns}};
  if (s.idle_p50_ns >= 0) j["idle_latency_ns"] = {{"p50", s.idle_p50_ns}, {"p99", s.idle_p99_ns}};
  return j;
}

std::string mpps_pair(const Summary& s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f / %.3f", s.pps[0] / 1e6, s.pps[1] / 1e6);
  return buf;
}

std::string gbps_pair(const Summary& s, uint32_t len) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f / %.2f", gbit_per_s(s.pps[0], len),
                gbit_per_s(s.pps[1], len));
  return buf;
}

std::string us(double ns) {
  if (ns < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", ns / 1000.0);
  return buf;
}

}  // namespace

int run_netback_bench(const NetbackBenchOptions& opts) {
  install_interrupt_guard();
  const bool two_cpus = std::thread::hardware_concurrency() >= 2;
  const int gen_cpu = two_cpus ? opts.generator_cpu : -1;
  const int be_cpu = two_cpus ? opts.backend_cpu : -1;

  std::string testpmd_note;
  std::string testpmd;
  if (!opts.skip_testpmd) {
    testpmd = find_testpmd(opts.testpmd);
    if (testpmd.empty()) {
      testpmd_note = "testpmd rows skipped: '" + opts.testpmd + "' not found";
    } else if (!two_cpus) {
      testpmd_note = "testpmd rows skipped: testpmd needs two CPUs (main + forwarding lcore)";
      testpmd.clear();
    } else if (geteuid() != 0) {
      testpmd_note = "testpmd rows skipped: DPDK's EAL needs root here (/var/run/dpdk)";
      testpmd.clear();
    }
  } else {
    testpmd_note = "testpmd rows skipped (--no-testpmd)";
  }

  const std::string base = make_base_dir("netback");
  if (base.empty()) return 1;
  const std::string load_before = load_average();

  // results[size][scenario] = one entry per repeat
  std::vector<std::vector<std::vector<NetRunResult>>> results(
      opts.sizes.size(), std::vector<std::vector<NetRunResult>>(kScenarios));
  int run_no = 0;
  auto progress = [&](const char* what, uint32_t size, int rep, const NetRunResult& r) {
    std::fprintf(stderr, "  [%d/%d] %4u B %-20s %s\n", rep + 1, opts.repeats, size, what,
                 r.ok() ? (std::to_string((r.pps[0] + r.pps[1]) / 1e6).substr(0, 6) + " Mpps")
                              .c_str()
                        : ("FAILED: " + r.error).c_str());
  };
  // Interleaved (repeat, size, scenario): load from other work on this shared machine then
  // falls on every scenario alike instead of on whichever ran during a busy stretch.
  for (int rep = 0; rep < opts.repeats && !interrupted(); ++rep) {
    for (size_t si = 0; si < opts.sizes.size() && !interrupted(); ++si) {
      const uint32_t frame_len = opts.sizes[si] - 4;
      if (!opts.skip_frontend) {
        for (bool both : {false, true}) {
          RunDir dir(base, run_no++);
          FrontendLoadOptions fo;
          fo.dir = dir.path();
          fo.frame_len = frame_len;
          fo.both_ways = both;
          fo.warmup_s = opts.warmup_seconds;
          fo.seconds = opts.seconds;
          fo.generator_cpu = gen_cpu;
          fo.backend_cpu = be_cpu;
          fo.poll_max_ns = opts.poll_max_ns;
          fo.idle_latency_samples = both ? 0 : opts.ping_samples;
          NetRunResult r = run_frontend_load(fo);
          const Scenario sc = both ? Scenario::kFrontendBothWays : Scenario::kFrontendOneWay;
          progress(scenario_key(sc), opts.sizes[si], rep, r);
          results[si][int(sc)].push_back(std::move(r));
          if (interrupted()) break;
        }
      }
      if (!testpmd.empty()) {
        for (Scenario sc : {Scenario::kTestpmdUvswitch, Scenario::kTestpmdBaseline}) {
          if (interrupted()) break;
          RunDir dir(base, run_no);
          TestpmdLoadOptions to;
          to.testpmd = testpmd;
          to.dir = dir.path();
          to.prefix = "uvsbench-" + std::to_string(getpid()) + "-" + std::to_string(run_no++);
          to.frame_len = frame_len;
          to.warmup_s = opts.warmup_seconds;
          to.seconds = opts.seconds;
          to.generator_cpu = gen_cpu;
          to.backend_cpu = be_cpu;
          to.poll_max_ns = opts.poll_max_ns;
          NetRunResult r = sc == Scenario::kTestpmdUvswitch ? run_testpmd_uvswitch(to)
                                                            : run_testpmd_baseline(to);
          progress(scenario_key(sc), opts.sizes[si], rep, r);
          results[si][int(sc)].push_back(std::move(r));
        }
      }
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(base, ec);
  if (interrupted()) {
    std::fprintf(stderr, "interrupted: children killed, temporary files removed\n");
    return 130;
  }

  // ---- report ----
  utsname u{};
  ::uname(&u);
  nlohmann::json out;
  out["benchmark"] = "netback";
  out["repeats"] = opts.repeats;
  out["seconds"] = opts.seconds;
  out["warmup_seconds"] = opts.warmup_seconds;
  out["machine"] = {{"cpu", cpu_model()},
                    {"cpus", std::thread::hardware_concurrency()},
                    {"kernel", u.release},
                    {"load_before", load_before},
                    {"load_after", load_average()}};
  out["backend_cpu"] = be_cpu;
  out["generator_cpu"] = gen_cpu;
  out["testpmd"] = testpmd.empty() ? nlohmann::json(nullptr) : nlohmann::json(testpmd);
  if (!testpmd_note.empty()) out["note"] = testpmd_note;
  bool all_ok = true;
  std::vector<std::vector<Summary>> sums(opts.sizes.size(), std::vector<Summary>(kScenarios));
  for (size_t si = 0; si < opts.sizes.size(); ++si) {
    const uint32_t len = opts.sizes[si] - 4;
    nlohmann::json row;
    row["frame_size"] = opts.sizes[si];
    row["frame_bytes_carried"] = len;
    for (int sc = 0; sc < kScenarios; ++sc) {
      const auto& runs = results[si][size_t(sc)];
      if (runs.empty()) continue;
      sums[si][size_t(sc)] = summarize(runs);
      const Summary& s = sums[si][size_t(sc)];
      if (s.ok_runs != s.runs) all_ok = false;
      nlohmann::json j = to_json(s, len);
      for (const auto& r : runs) j["each_run"].push_back(to_json(r, len));
      row[scenario_key(Scenario(sc))] = j;
    }
    // The ratio is taken per repeat (the two ran back to back) and then the median.
    const auto& uv = results[si][int(Scenario::kTestpmdUvswitch)];
    const auto& bl = results[si][int(Scenario::kTestpmdBaseline)];
    std::vector<double> ratios;
    for (size_t k = 0; k < uv.size() && k < bl.size(); ++k) {
      if (uv[k].ok() && bl[k].ok() && bl[k].total_pps() > 0) {
        ratios.push_back(uv[k].total_pps() / bl[k].total_pps());
      }
    }
    if (!ratios.empty()) row["uvswitch_over_vhost_pmd"] = median(ratios);
    out["sizes"].push_back(row);
  }

  if (opts.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return all_ok ? 0 : 1;
  }

  std::printf("uvswitch-bench netback: median of %d runs, %.1f s each after %.1f s warm-up\n",
              opts.repeats, opts.seconds, opts.warmup_seconds);
  std::printf("machine: %s, %u CPUs, kernel %s; load average %s before, %s after\n",
              out["machine"]["cpu"].get<std::string>().c_str(), std::thread::hardware_concurrency(),
              u.release, load_before.c_str(), out["machine"]["load_after"].get<std::string>().c_str());
  std::printf("backend loop thread on CPU %d, generator on CPU %d. Sizes count a 4-byte FCS the\n"
              "rings do not carry; Gbit/s counts carried Ethernet bytes. Rates are A->B / B->A.\n",
              be_cpu, gen_cpu);

  std::printf("\n1. testpmd virtio-user generator (mac forwarding, closed loop, start tx_first 8)\n");
  if (testpmd.empty()) {
    std::printf("   %s\n", testpmd_note.c_str());
  } else {
    std::printf("  %-6s %-19s %-19s %7s  %-13s %-13s %8s %8s %6s %6s\n", "size", "uvswitch Mpps",
                "vhost PMD Mpps", "ratio", "uvs Gbit/s", "PMD Gbit/s", "uvs ns/p", "PMD ns/p",
                "uvs %", "PMD %");
    for (size_t si = 0; si < opts.sizes.size(); ++si) {
      const uint32_t len = opts.sizes[si] - 4;
      const Summary& uv = sums[si][int(Scenario::kTestpmdUvswitch)];
      const Summary& bl = sums[si][int(Scenario::kTestpmdBaseline)];
      const auto& row = out["sizes"][si];
      char ratio[16] = "-";
      if (row.contains("uvswitch_over_vhost_pmd")) {
        std::snprintf(ratio, sizeof ratio, "%.2fx", row["uvswitch_over_vhost_pmd"].get<double>());
      }
      std::printf("  %4u B %-19s %-19s %7s  %-13s %-13s %8.0f %8.0f %6.0f %6.0f\n", opts.sizes[si],
                  uv.ok_runs ? mpps_pair(uv).c_str() : "failed",
                  bl.ok_runs ? mpps_pair(bl).c_str() : "failed", ratio,
                  uv.ok_runs ? gbps_pair(uv, len).c_str() : "-",
                  bl.ok_runs ? gbps_pair(bl, len).c_str() : "-", uv.cpu_ns_per_packet,
                  bl.cpu_ns_per_packet, uv.core_share * 100, bl.core_share * 100);
      for (const Summary* s : {&uv, &bl}) {
        if (s->ok_runs != s->runs) {
          std::printf("         %d of %d runs failed: %s\n", s->runs - s->ok_runs, s->runs,
                      s->first_error.c_str());
        }
      }
      if (uv.dropped > 0) std::printf("         uvswitch dropped %.0f frames (median)\n", uv.dropped);
      // This machine is noisy: show the spread the medians come from, run by run.
      std::printf("         each run, Mpps both ways:");
      for (Scenario sc : {Scenario::kTestpmdUvswitch, Scenario::kTestpmdBaseline}) {
        std::printf(" %s", sc == Scenario::kTestpmdUvswitch ? "uvs" : "| PMD");
        for (const auto& r : results[si][int(sc)]) {
          if (r.ok()) {
            std::printf(" %.2f", r.total_pps() / 1e6);
          } else {
            std::printf(" fail");
          }
        }
      }
      std::printf("\n");
    }
    std::printf("  ratio: uvswitch / vhost PMD, both directions summed, median of per-repeat "
                "ratios.\n  ns/p: backend CPU time per forwarded frame; %%: backend CPU as %% of "
                "one core.\n");
  }

  if (!opts.skip_frontend) {
    std::printf("\n2. uvswitch with the in-repo frontend as generator and sink (<= 256 frames in "
                "flight per direction)\n");
    std::printf("  %-6s %-10s %-19s %-13s %8s %6s %8s %8s %8s %8s\n", "size", "traffic", "Mpps",
                "Gbit/s", "ns/p", "%", "p50 us", "p99 us", "idle p50", "idle p99");
    for (size_t si = 0; si < opts.sizes.size(); ++si) {
      const uint32_t len = opts.sizes[si] - 4;
      for (Scenario sc : {Scenario::kFrontendOneWay, Scenario::kFrontendBothWays}) {
        const Summary& s = sums[si][int(sc)];
        const bool one = sc == Scenario::kFrontendOneWay;
        if (s.ok_runs == 0) {
          std::printf("  %4u B %-10s failed: %s\n", opts.sizes[si], one ? "A->B" : "both ways",
                      s.first_error.c_str());
          continue;
        }
        std::printf("  %4u B %-10s %-19s %-13s %8.0f %6.0f %8s %8s %8s %8s\n", opts.sizes[si],
                    one ? "A->B" : "both ways", mpps_pair(s).c_str(), gbps_pair(s, len).c_str(),
                    s.cpu_ns_per_packet, s.core_share * 100, us(s.lat_p50_ns).c_str(),
                    us(s.lat_p99_ns).c_str(), us(s.idle_p50_ns).c_str(), us(s.idle_p99_ns).c_str());
        if (s.ok_runs != s.runs) {
          std::printf("         %d of %d runs failed: %s\n", s.runs - s.ok_runs, s.runs,
                      s.first_error.c_str());
        }
        if (s.dropped > 0) std::printf("         dropped %.0f frames (median)\n", s.dropped);
      }
    }
    std::printf("  p50/p99: send-to-receive latency of every 16th frame under that load;\n"
                "  idle: one frame in flight at a time, A->B, receiver spinning.\n");
  }
  return all_ok ? 0 : 1;
}

}  // namespace uvs::bench
