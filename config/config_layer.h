// SPDX-License-Identifier: MIT
// ConfigLayer: the settings one source (the command line or a config file) gives, each parsed.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/capture_spec.h"
#include "config/daemon_config.h"
#include "config/file_access.h"
#include "config/port_spec.h"
#include "config/result.h"

namespace uvs::config {

/// A value plus where it came from ("--threads", "uvswitch.toml:3"), for later messages.
template <typename T>
struct Setting {
  T value;
  std::string origin;
};

/// One source's settings, each parsed and checked on its own as it is added. What needs the
/// whole configuration (port references, thread indices, shared paths) is checked when the
/// layers are merged (merge_config). Not thread-safe; plain data.
class ConfigLayer {
 public:
  /// The top-level option keys: flag names without "--" and config-file keys alike
  /// (threads, control, poll-max-ns, poll-grow, poll-shrink, log-level, fdb-aging,
  /// metrics-file, metrics-interval, dpdk-args).
  static std::span<const std::string_view> option_names();

  /// Parses `value` for option `key` and stores it (a later set wins). `label` says where it came
  /// from and prefixes errors: "--threads: 'abc' is not a number". kUnknownKey (with a hint) for
  /// a key that is not an option; the value's own error otherwise.
  Result<void> set_option(std::string_view key, std::string_view value, std::string_view label);

  /// Parses a --port value and adds it. Errors read "--port vm0: <what>" (the id, or the quoted
  /// text when there is no id).
  Result<void> add_port_text(std::string_view text);
  /// Parses a --capture value and adds it. Errors read "--capture 'text': <what>".
  Result<void> add_capture_text(std::string_view text);

  /// Adds a parsed port. kDuplicateId when this layer already has the id; the message starts
  /// with `origin` and names the first definition.
  Result<void> add_port(PortSpec spec, std::string origin);
  /// Adds a parsed capture. kDuplicateId when this layer already writes to the same file.
  Result<void> add_capture(CaptureSpec spec, std::string origin);

  std::optional<Setting<unsigned>> threads;
  std::optional<Setting<int64_t>> poll_max_ns;
  std::optional<Setting<int64_t>> poll_grow;
  std::optional<Setting<int64_t>> poll_shrink;
  std::optional<Setting<LogLevel>> log_level;
  std::optional<Setting<std::string>> control_path;
  std::optional<Setting<unsigned>> fdb_aging_s;
  std::optional<Setting<UserRef>> user;
  std::optional<Setting<GroupRef>> control_group;
  std::optional<Setting<bool>> keep_cap_net_admin;
  std::optional<Setting<bool>> seccomp;
  std::optional<Setting<std::string>> metrics_file;
  std::optional<Setting<unsigned>> metrics_interval_s;
  std::optional<Setting<std::string>> dpdk_args;
  std::vector<Setting<PortSpec>> ports;
  std::vector<Setting<CaptureSpec>> captures;
};

}  // namespace uvs::config
