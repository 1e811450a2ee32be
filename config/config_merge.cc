// SPDX-License-Identifier: MIT
// Merging the file and flag layers (flags win) and the checks that span the whole configuration.
#include "config/config_merge.h"

#include <algorithm>
#include <map>

#include "config/limits.h"
#include "config/path_check.h"
#include "config/port_spec_parser.h"
#include "config/port_types.h"
#include "config/vhost_user_port_spec.h"

namespace uvs::config {
namespace {

// The flag's value if set, else the file's, else `fallback`.
template <typename T>
T pick(const std::optional<Setting<T>>& flag, const std::optional<Setting<T>>& file, T fallback) {
  if (flag) return flag->value;
  if (file) return file->value;
  return fallback;
}

Result<void> check_ports(const std::vector<Setting<PortSpec>>& ports, const DaemonConfig& cfg) {
  std::map<std::string, std::string> paths;  // socket path -> who uses it
  paths[cfg.control_path] = "the control socket";
  std::map<std::string, std::string> resources;
  for (const auto& [port, origin] : ports) {
    if (port.thread && *port.thread >= cfg.threads) {
      return Error::make(
          ConfigError::kOutOfRange,
          origin + ": thread=" + std::to_string(*port.thread) + " but there " +
              (cfg.threads == 1 ? "is 1 I/O thread (index 0)"
                                : "are " + std::to_string(cfg.threads) + " I/O threads (0.." +
                                      std::to_string(cfg.threads - 1) + ")") +
              "; raise --threads or lower thread=",
          "thread");
    }
    if (const auto* vu = port.backend.get_if<VhostUserPortSpec>()) {
      for (unsigned t : vu->threads) {
        if (t < cfg.threads) continue;
        return Error::make(ConfigError::kOutOfRange,
                           origin + ": threads= names thread " + std::to_string(t) +
                               " but there " +
                               (cfg.threads == 1 ? "is 1 I/O thread (index 0)"
                                                 : "are " + std::to_string(cfg.threads) +
                                                       " I/O threads (0.." +
                                                       std::to_string(cfg.threads - 1) + ")") +
                               "; raise --threads or change threads=",
                           "threads");
      }
    }
    const PortClaims claims = port.type->claims ? port.type->claims(port.backend) : PortClaims{};
    if (const std::string& path = claims.socket_path; !path.empty()) {
      auto [it, fresh] = paths.emplace(path, "port " + port.id);
      if (!fresh) {
        return Error::make(ConfigError::kConflict,
                           origin + ": path '" + path + "' is already used by " + it->second,
                           "path");
      }
    }
    if (const std::string& res = claims.resource; !res.empty()) {
      auto [it, fresh] = resources.emplace(res, port.id);
      if (!fresh) {
        return Error::make(ConfigError::kConflict,
                           origin + ": " + res + " is already used by port " + it->second);
      }
    }
  }
  return {};
}

Result<void> check_captures(const std::vector<Setting<CaptureSpec>>& captures,
                            const DaemonConfig& cfg) {
  for (const auto& [cap, origin] : captures) {
    bool found = false;
    std::string ids;
    for (const PortSpec& p : cfg.ports) {
      found = found || p.id == cap.port;
      ids += (ids.empty() ? "" : ", ") + p.id;
    }
    if (!found) {
      return Error::make(ConfigError::kUnknownPort,
                         origin + ": port '" + cap.port + "' does not exist (ports: " + ids + ")",
                         "port");
    }
  }
  return {};
}

}  // namespace

Result<DaemonConfig> merge_config(const ConfigLayer& file, const ConfigLayer& flags,
                                  const Environment& env) {
  DaemonConfig cfg;
  cfg.runtime_dir = env.runtime_dir;
  cfg.threads_from_cpus = !flags.threads && !file.threads;
  cfg.threads = pick(flags.threads, file.threads,
                     std::clamp(env.online_cpus, 1u, kDefaultMaxThreads));
  cfg.poll_max_ns = pick(flags.poll_max_ns, file.poll_max_ns, cfg.poll_max_ns);
  cfg.poll_grow = pick(flags.poll_grow, file.poll_grow, cfg.poll_grow);
  cfg.poll_shrink = pick(flags.poll_shrink, file.poll_shrink, cfg.poll_shrink);
  cfg.log_level = pick(flags.log_level, file.log_level, cfg.log_level);
  cfg.fdb_aging_s = pick(flags.fdb_aging_s, file.fdb_aging_s, cfg.fdb_aging_s);
  if (flags.user || file.user) cfg.user = flags.user ? flags.user->value : file.user->value;
  if (flags.control_group || file.control_group) {
    cfg.control_group = flags.control_group ? flags.control_group->value : file.control_group->value;
  }
  cfg.keep_cap_net_admin = pick(flags.keep_cap_net_admin, file.keep_cap_net_admin, false);
  cfg.seccomp = pick(flags.seccomp, file.seccomp, false);
  if (cfg.keep_cap_net_admin && !cfg.user) {
    return Error::make(ConfigError::kConflict,
                       "keep-cap-net-admin needs user (it keeps a capability across --user's drop)",
                       "keep-cap-net-admin");
  }
  cfg.dpdk_args = pick(flags.dpdk_args, file.dpdk_args, cfg.dpdk_args);
  cfg.metrics_file = pick(flags.metrics_file, file.metrics_file, cfg.metrics_file);
  cfg.metrics_interval_s =
      pick(flags.metrics_interval_s, file.metrics_interval_s, cfg.metrics_interval_s);
  if (cfg.metrics_file.empty() && (flags.metrics_interval_s || file.metrics_interval_s)) {
    const auto& s = flags.metrics_interval_s ? flags.metrics_interval_s : file.metrics_interval_s;
    return Error::make(ConfigError::kConflict,
                       s->origin + ": metrics-interval needs metrics-file (the file to write)",
                       "metrics-interval");
  }
  if (flags.control_path || file.control_path) {
    cfg.control_path = pick(flags.control_path, file.control_path, std::string());
  } else {
    cfg.control_path = env.runtime_dir + "/control.sock";
    auto ok = check_socket_path(cfg.control_path);
    if (!ok) return ok.error().with_context("default control socket");
  }

  // Ports: file first, a flag port with the same id replaces the file's.
  std::vector<Setting<PortSpec>> ports = file.ports;
  for (const auto& fp : flags.ports) {
    bool replaced = false;
    for (auto& p : ports) {
      if (p.value.id == fp.value.id) {
        p = fp;
        replaced = true;
      }
    }
    if (!replaced) ports.push_back(fp);
  }
  if (ports.empty()) {
    PortSpec vm0;
    vm0.id = "vm0";
    vm0.type = &kVhostUserPortType;
    vm0.backend = VhostUserPortSpec{env.runtime_dir + "/vm0.sock"};
    auto ok = check_socket_path(vm0.backend.get<VhostUserPortSpec>().path);
    if (!ok) return ok.error().with_context("default port vm0");
    ports.push_back(Setting<PortSpec>{std::move(vm0), "default port vm0"});
    // And the NAT that gives a guest on vm0 DHCP, DNS and the outside world with no flags:
    // QEMU's -netdev user defaults (10.0.2.0/24, gateway .2, DNS .3, leases from .15).
    auto nat0 = parse_port_spec("nat,id=nat0");
    if (!nat0) return nat0.error().with_context("default port nat0");
    ports.push_back(Setting<PortSpec>{std::move(*nat0), "default port nat0"});
    cfg.default_ports = true;
  }
  UVS_CFG_RETURN_IF_ERROR(check_ports(ports, cfg));
  for (auto& p : ports) cfg.ports.push_back(std::move(p.value));

  std::vector<Setting<CaptureSpec>> captures = file.captures;
  for (const auto& fc : flags.captures) {
    bool replaced = false;
    for (auto& c : captures) {
      if (c.value.file == fc.value.file) {
        c = fc;
        replaced = true;
      }
    }
    if (!replaced) captures.push_back(fc);
  }
  UVS_CFG_RETURN_IF_ERROR(check_captures(captures, cfg));
  for (auto& c : captures) cfg.captures.push_back(std::move(c.value));
  return cfg;
}

}  // namespace uvs::config
