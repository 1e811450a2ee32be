// SPDX-License-Identifier: MIT
// `uvswitch-bench dirty-log`: interleaved runs with the migration dirty log off and on.
#include "tools/bench/dirty_log_bench.h"

#include <unistd.h>

#include <array>
#include <cstdio>
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

struct Figures {
  std::vector<double> mpps, ns_per_packet;
  std::string error;
};

}  // namespace

int run_dirty_log_bench(const DirtyLogBenchOptions& opts) {
  install_interrupt_guard();
  const std::string base = make_base_dir("dirty");
  if (base.empty()) return 1;
  const std::string load_before = load_average();
  // fig[size][logging]
  std::vector<std::array<Figures, 2>> fig(opts.sizes.size());
  int run_no = 0;
  // Interleaved (repeat, size, off/on): load from other work falls on both alike.
  for (int rep = 0; rep < opts.repeats && !interrupted(); ++rep) {
    for (size_t si = 0; si < opts.sizes.size(); ++si) {
      for (int on = 0; on < 2 && !interrupted(); ++on) {
        RunDir dir(base, run_no++);
        FrontendLoadOptions fo;
        fo.dir = dir.path();
        fo.frame_len = opts.sizes[si] - 4;  // FCS excluded
        fo.both_ways = true;
        fo.warmup_s = opts.warmup_seconds;
        fo.seconds = opts.seconds;
        fo.generator_cpu = opts.generator_cpu;
        fo.backend_cpu = opts.backend_cpu;
        fo.dirty_log = on != 0;
        NetRunResult r = run_frontend_load(fo);
        Figures& f = fig[si][on];
        if (!r.ok()) {
          f.error = r.error;
          std::fprintf(stderr, "%u B logging %s run %d: %s\n", opts.sizes[si], on ? "on" : "off",
                       rep + 1, r.error.c_str());
          continue;
        }
        const double mpps = (r.pps[0] + r.pps[1]) / 1e6;
        f.mpps.push_back(mpps);
        f.ns_per_packet.push_back(r.backend_cpu_ns_per_packet);
        std::fprintf(stderr, "%u B logging %s run %d: %.3f Mpps, %.0f ns/packet\n",
                     opts.sizes[si], on ? "on" : "off", rep + 1, mpps,
                     r.backend_cpu_ns_per_packet);
      }
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
  for (size_t si = 0; si < opts.sizes.size(); ++si) {
    nlohmann::json row{{"frame_bytes", opts.sizes[si]}};
    for (int on = 0; on < 2; ++on) {
      const Figures& f = fig[si][on];
      if (f.mpps.empty()) rc = 1;
      row[on ? "logging_on" : "logging_off"] = {{"runs", f.mpps.size()},
                                                {"mpps", median(f.mpps)},
                                                {"ns_per_packet", median(f.ns_per_packet)},
                                                {"error", f.error}};
    }
    const double off = row["logging_off"]["mpps"].get<double>();
    row["on_over_off"] = off > 0 ? row["logging_on"]["mpps"].get<double>() / off : 0.0;
    out["sizes"].push_back(row);
  }
  if (opts.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return rc;
  }
  std::printf("vhost-user <-> vhost-user, in-repo frontends both ways, dirty logging off vs on "
              "(as during a live migration); medians of %d interleaved runs of %.1f s\n",
              opts.repeats, opts.seconds);
  std::printf("backend on CPU %d, generator on CPU %d; %s\nload average before: %s, after: %s\n",
              opts.backend_cpu, opts.generator_cpu, cpu_model().c_str(), load_before.c_str(),
              load_after.c_str());
  std::printf("  %7s %12s %12s %8s %14s %14s\n", "frame B", "off Mpps", "on Mpps", "on/off",
              "off ns/pkt", "on ns/pkt");
  for (const auto& j : out["sizes"]) {
    std::printf("  %7u %12.3f %12.3f %7.2fx %14.0f %14.0f\n", j["frame_bytes"].get<uint32_t>(),
                j["logging_off"]["mpps"].get<double>(), j["logging_on"]["mpps"].get<double>(),
                j["on_over_off"].get<double>(), j["logging_off"]["ns_per_packet"].get<double>(),
                j["logging_on"]["ns_per_packet"].get<double>());
  }
  return rc;
}

}  // namespace uvs::bench
