// SPDX-License-Identifier: MIT
// The capture benchmark's driver: four daemon configurations under testpmd, medians and ratios.
#include "tools/bench/capture_bench.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tools/bench/interrupt_guard.h"
#include "tools/bench/net_run_result.h"
#include "tools/bench/run_env.h"
#include "tools/bench/stats_util.h"
#include "tools/bench/switch_load.h"
#include "tools/bench/testpmd_load.h"
#include "tools/bench/testpmd_process.h"

namespace uvs::bench {
namespace {

struct Config {
  const char* name;
  const char* filter;  // nullptr: no capture; "" : capture without a filter
};

// testpmd's frames are IPv4/UDP: "udp" matches every one (filter + copy), "icmp" none (the
// filter's cost alone, nothing queued).
constexpr Config kConfigs[] = {
    {"no capture", nullptr},
    {"capture port a", ""},
    {"capture a, filter 'udp' (all pass)", "udp"},
    {"capture a, filter 'icmp' (none pass)", "icmp"},
};

std::string exe_dir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

}  // namespace

int run_capture_bench(CaptureBenchOptions opts) {
  install_interrupt_guard();
  const std::string testpmd = find_testpmd(opts.testpmd);
  if (testpmd.empty()) {
    std::fprintf(stderr, "uvswitch-bench capture: '%s' not found (tools/install-deps.sh)\n",
                 opts.testpmd.c_str());
    return 2;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "uvswitch-bench capture: DPDK's EAL needs root here (/var/run/dpdk)\n");
    return 2;
  }
  if (opts.uvswitch.empty()) opts.uvswitch = exe_dir() + "/../uvswitch/uvswitch";
  const std::string base = make_base_dir("capture");
  if (base.empty()) return 1;
  constexpr size_t kN = std::size(kConfigs);
  std::vector<NetRunResult> res[kN];
  int run_no = 0;
  // Interleaved so load from other work on a shared machine falls on every configuration alike.
  for (int rep = 0; rep < opts.repeats && !interrupted(); ++rep) {
    for (size_t k = 0; k < kN && !interrupted(); ++k) {
      const std::string dir = base + "/run-" + std::to_string(run_no);
      std::filesystem::create_directory(dir);
      TestpmdLoadOptions to;
      to.testpmd = testpmd;
      to.dir = dir;
      to.prefix = "uvscap-" + std::to_string(getpid()) + "-" + std::to_string(run_no++);
      to.frame_len = opts.size - 4;
      to.warmup_s = opts.warmup_seconds;
      to.seconds = opts.seconds;
      to.generator_cpu = opts.generator_cpu;
      to.backend_cpu = opts.backend_cpu;
      SwitchRunOptions so;
      so.uvswitch = opts.uvswitch;
      so.threads = 1;
      so.daemon_cpus = {opts.backend_cpu};
      if (kConfigs[k].filter) {
        // Rotation bounds the disk a few seconds at line rate would take.
        std::string spec = "port=a,file=" + dir + "/a.pcap,max-size=100,max-files=2";
        if (*kConfigs[k].filter) spec += std::string(",filter=") + kConfigs[k].filter;
        so.extra_args = {"--capture", spec};
      }
      NetRunResult r = run_testpmd_switch(to, so);
      std::fprintf(stderr, "  [%d/%d] %-38s %s\n", rep + 1, opts.repeats, kConfigs[k].name,
                   r.ok() ? (std::to_string(r.total_pps() / 1e6).substr(0, 6) + " Mpps").c_str()
                          : ("FAILED: " + r.error).c_str());
      res[k].push_back(std::move(r));
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(base, ec);
  if (interrupted()) return 130;

  bool all_ok = true;
  double med_pps[kN] = {}, med_cpu[kN] = {};
  nlohmann::json out = {{"benchmark", "capture"},
                        {"size", opts.size},
                        {"repeats", opts.repeats},
                        {"seconds", opts.seconds}};
  for (size_t k = 0; k < kN; ++k) {
    std::vector<double> pps, cpu;
    std::string err;
    for (const NetRunResult& r : res[k]) {
      if (!r.ok()) {
        if (err.empty()) err = r.error;
        continue;
      }
      pps.push_back(r.total_pps());
      cpu.push_back(r.backend_cpu_ns_per_packet);
    }
    if (pps.empty()) {
      all_ok = false;
      out["configs"].push_back({{"name", kConfigs[k].name}, {"error", err}});
      continue;
    }
    med_pps[k] = median(pps);
    med_cpu[k] = median(cpu);
    out["configs"].push_back({{"name", kConfigs[k].name},
                              {"ok_runs", pps.size()},
                              {"mpps_total", med_pps[k] / 1e6},
                              {"cpu_ns_per_packet", med_cpu[k]}});
  }
  if (opts.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return all_ok ? 0 : 1;
  }
  std::printf("uvswitch-bench capture: %u B frames, testpmd mac-mode generator on CPU %d, daemon "
              "(1 I/O thread) on CPU %d;\nmedians of %d interleaved runs of %.1f s; Mpps is both "
              "directions together\n\n",
              opts.size, opts.generator_cpu, opts.backend_cpu, opts.repeats, opts.seconds);
  std::printf("%-40s %10s %14s %14s\n", "configuration", "Mpps", "vs no capture", "CPU ns/pkt");
  for (size_t k = 0; k < kN; ++k) {
    if (med_pps[k] == 0) {
      std::printf("%-40s %10s\n", kConfigs[k].name, "FAILED");
      continue;
    }
    std::printf("%-40s %10.3f %13.2fx %14.1f\n", kConfigs[k].name, med_pps[k] / 1e6,
                med_pps[0] > 0 ? med_pps[k] / med_pps[0] : 0.0, med_cpu[k]);
  }
  return all_ok ? 0 : 1;
}

}  // namespace uvs::bench
