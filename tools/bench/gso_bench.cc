// SPDX-License-Identifier: MIT
// `uvswitch-bench gso`: interleaved runs of 64 KiB GSO frames and of MTU-size plain frames.
#include "tools/bench/gso_bench.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tools/bench/frontend_load.h"
#include "tools/bench/interrupt_guard.h"
#include "tools/bench/run_env.h"
#include "tools/bench/stats_util.h"

namespace uvs::bench {

namespace {

struct Scenario {
  const char* name;
  uint32_t frame_len;
  uint16_t mss;
  std::vector<double> gbit, core, cpu_s_per_gbit, kpps;
  std::string error;
};

}  // namespace

int run_gso_bench(const GsoBenchOptions& opts) {
  install_interrupt_guard();
  const std::string base = make_base_dir("gso");
  if (base.empty()) return 1;
  const std::string load_before = load_average();
  std::vector<Scenario> sc = {{"gso-64k", opts.gso_frame_len, opts.mss, {}, {}, {}, {}, {}},
                              {"plain-mtu", opts.plain_frame_len, 0, {}, {}, {}, {}, {}}};
  int run_no = 0;
  for (int rep = 0; rep < opts.repeats && !interrupted(); ++rep) {
    for (Scenario& s : sc) {
      RunDir dir(base, run_no++);
      FrontendLoadOptions fo;
      fo.dir = dir.path();
      fo.frame_len = s.frame_len;
      fo.gso_mss = s.mss;
      fo.warmup_s = opts.warmup_seconds;
      fo.seconds = opts.seconds;
      fo.generator_cpu = opts.generator_cpu;
      fo.backend_cpu = opts.backend_cpu;
      NetRunResult r = run_frontend_load(fo);
      if (!r.ok()) {
        s.error = r.error;
        std::fprintf(stderr, "%s run %d: %s\n", s.name, rep + 1, r.error.c_str());
        continue;
      }
      const double g = gbit_per_s(r.pps[0], s.frame_len);
      s.gbit.push_back(g);
      s.core.push_back(r.backend_core_share);
      s.cpu_s_per_gbit.push_back(g > 0 ? r.backend_core_share / g : 0);
      s.kpps.push_back(r.pps[0] / 1e3);
      std::fprintf(stderr, "%s run %d: %.2f Gbit/s, %.0f kpps, backend %.2f core\n", s.name,
                   rep + 1, g, r.pps[0] / 1e3, r.backend_core_share);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(base, ec);
  const std::string load_after = load_average();

  int rc = 0;
  nlohmann::json out;
  out["load_average_before"] = load_before;
  out["load_average_after"] = load_after;
  out["cpu"] = cpu_model();
  for (const Scenario& s : sc) {
    if (s.gbit.empty()) rc = 1;
    out["scenarios"].push_back({{"name", s.name},
                                {"frame_len", s.frame_len},
                                {"mss", s.mss},
                                {"runs", s.gbit.size()},
                                {"gbit_s", median(s.gbit)},
                                {"kpps", median(s.kpps)},
                                {"backend_core", median(s.core)},
                                {"backend_cpu_s_per_gbit", median(s.cpu_s_per_gbit)},
                                {"error", s.error}});
  }
  if (opts.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return rc;
  }
  std::printf("vhost-user -> vhost-user, in-repo frontend, one direction; medians of %d "
              "interleaved runs of %.1f s\n",
              opts.repeats, opts.seconds);
  std::printf("backend on CPU %d, generator on CPU %d; %s\nload average before: %s, after: %s\n",
              opts.backend_cpu, opts.generator_cpu, cpu_model().c_str(), load_before.c_str(),
              load_after.c_str());
  std::printf("  %-10s %8s %6s %9s %9s %10s %14s\n", "scenario", "frame B", "MSS", "Gbit/s",
              "kpps", "backend", "CPU s/Gbit");
  for (const auto& j : out["scenarios"]) {
    if (j["runs"].get<size_t>() == 0) {
      std::printf("  %-10s failed: %s\n", j["name"].get<std::string>().c_str(),
                  j["error"].get<std::string>().c_str());
      continue;
    }
    std::printf("  %-10s %8u %6u %9.2f %9.1f %9.2fc %14.4f\n",
                j["name"].get<std::string>().c_str(), j["frame_len"].get<uint32_t>(),
                j["mss"].get<unsigned>(), j["gbit_s"].get<double>(), j["kpps"].get<double>(),
                j["backend_core"].get<double>(), j["backend_cpu_s_per_gbit"].get<double>());
  }
  return rc;
}

}  // namespace uvs::bench
