// SPDX-License-Identifier: MIT
// DaemonConfig: the daemon's complete, validated settings, plus the environment they default from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/capture_spec.h"
#include "config/file_access.h"
#include "config/port_spec.h"
#include "config/result.h"

namespace uvs::config {

/// How much the daemon logs.
enum class LogLevel { kError, kWarn, kInfo, kDebug, kTrace };

/// "error", "warn", "info", "debug", "trace".
const char* log_level_name(LogLevel l);
/// The inverse of log_level_name(); kBadValue (listing the levels) otherwise. Pure.
Result<LogLevel> parse_log_level(std::string_view text);

/// Facts about the machine that defaults depend on. Tests build one by hand.
struct Environment {
  unsigned online_cpus = 1;  ///< default --threads
  std::string runtime_dir;   ///< where default sockets go (see runtime_paths.h)

  /// This machine: sysconf(_SC_NPROCESSORS_ONLN) (at least 1) and default_runtime_dir().
  static Environment detect();
};

/// Every setting the daemon runs with, after merging the config file and the flags and checking
/// the whole. Plain data: nothing here is opened or started.
struct DaemonConfig {
  unsigned threads = 1;            ///< I/O threads (resolved: never 0)
  bool threads_from_cpus = false;  ///< threads came from the CPU count, not from the user
  int64_t poll_max_ns = 32768;     ///< busy-poll window cap, ns; 0 disables polling (QEMU default)
  int64_t poll_grow = 2;
  int64_t poll_shrink = 2;
  LogLevel log_level = LogLevel::kInfo;
  std::string runtime_dir;
  std::string control_path;    ///< AF_UNIX control socket; empty: none (backend program mode)
  unsigned fdb_aging_s = 300;  ///< MAC table aging; 0 disables (802.1D's default is 300 s)
  /// --user: the identity the daemon switches to once its privileged resources are open.
  std::optional<UserRef> user;
  std::optional<GroupRef> control_group;  ///< --control-group: may use the control socket
  bool keep_cap_net_admin = false;         ///< with --user: keep CAP_NET_ADMIN (run-time taps)
  bool seccomp = false;                    ///< --seccomp: the syscall allow-list
  /// Prometheus text file rewritten every metrics_interval_s (node_exporter's textfile
  /// collector); empty: none.
  std::string metrics_file;
  unsigned metrics_interval_s = 10;
  /// DPDK's EAL arguments (--dpdk-args), used once at start-up when a dpdk port exists or this
  /// is set; empty: EAL's defaults.
  std::string dpdk_args;
  std::vector<PortSpec> ports;
  std::vector<CaptureSpec> captures;
  bool default_ports = false;  ///< no port was configured, so the built-in vm0 and nat0 were added
  std::string config_file;     ///< the --config file, empty if none
};

}  // namespace uvs::config
