// SPDX-License-Identifier: MIT
// Metrics export: the `metrics` control command and the periodically rewritten metrics file.
#pragma once

#include <memory>
#include <string>

#include "eventloop/event_loop.h"
#include "eventloop/timer.h"
#include "tools/uvswitch/command_table.h"

namespace uvs::daemon {

/// Every counter of the daemon in the Prometheus text format, built from the replies of the
/// `stats`, `threads`, `captures` and `version` commands of `table`, so what those commands
/// report is exported with no list to keep in step. Control loop thread (the commands
/// run_in_loop_sync into the I/O threads).
std::string metrics_text(const CommandTable& table);

/// Registers `metrics`: {"return": {"text": "<exposition>"}}.
void register_metrics_command(CommandTable& table);

/// Rewrites a file with metrics_text() every `interval_s` seconds, atomically (a temp file in
/// the same directory, then rename(2)), so node_exporter's textfile collector never reads half a
/// file. The file is written once at start() and removed by the destructor (a stopped daemon's
/// counters must not look current). A write that fails is logged (once until one succeeds) and
/// retried at the next interval. Control loop thread only; destroy before the loop.
class MetricsFile {
 public:
  MetricsFile(ev::EventLoop& loop, const CommandTable& table, std::string path,
              unsigned interval_s);
  ~MetricsFile();
  MetricsFile(const MetricsFile&) = delete;
  MetricsFile& operator=(const MetricsFile&) = delete;

  /// Writes the file now and arms the timer.
  void start();

 private:
  void on_timer();
  bool write_once(std::string* error);

  const CommandTable& table_;
  std::string path_;
  std::string tmp_path_;
  int64_t interval_ns_;
  bool failing_ = false;
  ev::Timer timer_;
};

}  // namespace uvs::daemon
