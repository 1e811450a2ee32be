// SPDX-License-Identifier: MIT
// ConfigLayer: the top-level option table and per-source duplicate checks.
#include "config/config_layer.h"

#include <array>

#include "config/file_access.h"
#include "config/keyval.h"
#include "config/limits.h"
#include "config/path_check.h"
#include "config/port_spec_parser.h"
#include "config/suggest.h"
#include "config/value_parser.h"

namespace uvs::config {
namespace {

// Parses a value for an option and stores it with its origin.
using OptionSetter = Result<void> (*)(ConfigLayer&, std::string_view, std::string_view);

template <typename T, typename F>
Result<void> store(std::optional<Setting<T>>* slot, std::string_view value, std::string_view origin,
                   F parse) {
  auto r = parse(value);
  if (!r) return r.error();
  *slot = Setting<T>{static_cast<T>(*r), std::string(origin)};
  return {};
}

Result<std::string> parse_control(std::string_view v) {
  UVS_CFG_RETURN_IF_ERROR(check_socket_path(v));
  return std::string(v);
}

Result<std::string> parse_output(std::string_view v) {
  UVS_CFG_RETURN_IF_ERROR(check_output_file(v));
  return std::string(v);
}

// dpdk-args: DPDK's EAL arguments, passed on as they are; refused by name without DPDK.
Result<std::string> parse_dpdk_args(std::string_view v) {
#ifdef UVS_WITH_DPDK
  return std::string(v);
#else
  (void)v;
  return Error::make(ConfigError::kBadValue,
                     "this uvswitch was built without DPDK (configure with -DUVS_WITH_DPDK=ON)");
#endif
}

struct OptionDef {
  std::string_view name;
  OptionSetter set;
};

constexpr std::array<OptionDef, 14> kOptions = {{
    {"threads",
     [](ConfigLayer& l, std::string_view v, std::string_view o) {
       return store(&l.threads, v, o,
                    [](std::string_view s) { return parse_uint(s, 1, kMaxThreads); });
     }},
    {"control", [](ConfigLayer& l, std::string_view v,
                   std::string_view o) { return store(&l.control_path, v, o, parse_control); }},
    {"poll-max-ns",
     [](ConfigLayer& l, std::string_view v, std::string_view o) {
       return store(&l.poll_max_ns, v, o,
                    [](std::string_view s) { return parse_uint(s, 0, kMaxPollNs); });
     }},
    {"poll-grow",
     [](ConfigLayer& l, std::string_view v, std::string_view o) {
       return store(&l.poll_grow, v, o,
                    [](std::string_view s) { return parse_uint(s, 0, kMaxPollFactor); });
     }},
    {"poll-shrink",
     [](ConfigLayer& l, std::string_view v, std::string_view o) {
       return store(&l.poll_shrink, v, o,
                    [](std::string_view s) { return parse_uint(s, 0, kMaxPollFactor); });
     }},
    {"log-level", [](ConfigLayer& l, std::string_view v,
                     std::string_view o) { return store(&l.log_level, v, o, parse_log_level); }},
    {"fdb-aging",
     [](ConfigLayer& l, std::string_view v, std::string_view o) {
       return store(&l.fdb_aging_s, v, o,
                    [](std::string_view s) { return parse_uint(s, 0, kMaxFdbAging); });
     }},
    {"user", [](ConfigLayer& l, std::string_view v,
                std::string_view o) { return store(&l.user, v, o, parse_user); }},
    {"control-group", [](ConfigLayer& l, std::string_view v,
                         std::string_view o) { return store(&l.control_group, v, o, parse_group); }},
    {"keep-cap-net-admin",
     [](ConfigLayer& l, std::string_view v, std::string_view o) {
       return store(&l.keep_cap_net_admin, v, o, parse_bool);
     }},
    {"seccomp", [](ConfigLayer& l, std::string_view v,
                   std::string_view o) { return store(&l.seccomp, v, o, parse_bool); }},
    {"metrics-file", [](ConfigLayer& l, std::string_view v,
                        std::string_view o) { return store(&l.metrics_file, v, o, parse_output); }},
    {"metrics-interval",
     [](ConfigLayer& l, std::string_view v, std::string_view o) {
       return store(&l.metrics_interval_s, v, o,
                    [](std::string_view s) { return parse_uint(s, 1, kMaxMetricsInterval); });
     }},
    {"dpdk-args", [](ConfigLayer& l, std::string_view v,
                     std::string_view o) { return store(&l.dpdk_args, v, o, parse_dpdk_args); }},
}};

constexpr std::array<std::string_view, kOptions.size()> kOptionNames = [] {
  std::array<std::string_view, kOptions.size()> names{};
  for (size_t i = 0; i < kOptions.size(); ++i) names[i] = kOptions[i].name;
  return names;
}();

}  // namespace

std::span<const std::string_view> ConfigLayer::option_names() {
  return kOptionNames;
}

Result<void> ConfigLayer::set_option(std::string_view key, std::string_view value,
                                     std::string_view label) {
  for (const OptionDef& def : kOptions) {
    if (def.name != key) continue;
    auto r = def.set(*this, value, label);
    if (!r) {
      Error e = r.error().with_context(label);
      e.key = std::string(key);
      return e;
    }
    return {};
  }
  return Error::make(ConfigError::kUnknownKey,
                     std::string(label) + ": unknown key '" + std::string(key) + "'" +
                         did_you_mean(key, kOptionNames),
                     std::string(key));
}

Result<void> ConfigLayer::add_port_text(std::string_view text) {
  auto kv = parse_keyval(text, KeyvalType::kLeading);
  if (!kv) return kv.error().with_context("--port '" + std::string(text) + "'");
  std::string origin = "--port " + port_label(*kv, text);
  auto spec = parse_port_spec(*kv);
  if (!spec) return spec.error().with_context(origin);
  return add_port(std::move(*spec), origin);
}

Result<void> ConfigLayer::add_capture_text(std::string_view text) {
  std::string origin = "--capture '" + std::string(text) + "'";
  auto spec = parse_capture_spec(text);
  if (!spec) return spec.error().with_context(origin);
  return add_capture(std::move(*spec), origin);
}

Result<void> ConfigLayer::add_port(PortSpec spec, std::string origin) {
  for (const auto& p : ports) {
    if (p.value.id == spec.id) {
      return Error::make(
          ConfigError::kDuplicateId,
          origin + ": duplicate port id '" + spec.id + "' (already defined by " + p.origin + ")",
          "id");
    }
  }
  ports.push_back(Setting<PortSpec>{std::move(spec), std::move(origin)});
  return {};
}

Result<void> ConfigLayer::add_capture(CaptureSpec spec, std::string origin) {
  for (const auto& c : captures) {
    if (c.value.file == spec.file) {
      return Error::make(ConfigError::kDuplicateId,
                         origin + ": file '" + spec.file + "' is already written by " + c.origin,
                         "file");
    }
  }
  captures.push_back(Setting<CaptureSpec>{std::move(spec), std::move(origin)});
  return {};
}

}  // namespace uvs::config
