// SPDX-License-Identifier: MIT
// uvswitch-bench: command-line entry that dispatches to one benchmark per subcommand.
#include <CLI/CLI.hpp>

#include "tools/bench/eventloop_bench.h"

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

  CLI11_PARSE(app, argc, argv);
  if (evcmd->parsed()) return uvs::bench::run_eventloop_bench(ev);
  return 2;
}
