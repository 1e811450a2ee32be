// SPDX-License-Identifier: MIT
// The built-in control commands: version, threads, ports, quit, query-commands.
#include <unistd.h>

#include <chrono>

#include "config/port_spec.h"
#include "eventloop/loop_stats.h"
#include "tools/uvswitch/daemon.h"

namespace uvs::daemon {
namespace {

/// What `ports` reports until the switch issue lands: the spec is checked, nothing is opened.
constexpr const char* kPortStateNotStarted = "not-started (switch pending)";

Json stats_json(const ev::LoopStats& s, const ev::LoopOptions& o) {
  return Json{
      {"iterations", s.iterations},
      {"blocking-waits", s.blocking_waits},
      {"fd-checks", s.fd_checks},
      {"poll-hits", s.poll_hits},
      {"poll-misses", s.poll_misses},
      {"poll-ns-total", s.poll_ns_total},
      {"fd-events", s.fd_events},
      {"poll-events", s.poll_events},
      {"bhs-run", s.bhs_run},
      {"timers-fired", s.timers_fired},
      {"poll-window-ns", s.poll_window_ns},
      {"handlers", s.handlers},
      {"polled-handlers", s.polled_handlers},
      {"monitor", s.monitor ? s.monitor : ""},
      {"poll-max-ns", o.poll_max_ns},
      {"poll-grow", o.poll_grow},
      {"poll-shrink", o.poll_shrink},
  };
}

Json port_json(const config::PortSpec& p) {
  Json settings = Json::object();
  for (const auto& [key, value] : config::port_settings(p)) {
    if (key == "type" || key == "id" || key == "thread" || key == "vlan" || key == "trunk") {
      continue;  // reported as fields of their own
    }
    if (settings.contains(key)) {
      // Repeatable keys (hostfwd) become arrays.
      if (!settings[key].is_array()) settings[key] = Json::array({settings[key]});
      settings[key].push_back(value);
    } else {
      settings[key] = value;
    }
  }
  Json vlan = p.vlan.mode == config::VlanMode::kTrunk
                  ? Json{{"mode", "trunk"}, {"vlans", p.vlan.trunk}}
                  : Json{{"mode", "access"}, {"vlan", p.vlan.access_vlan}};
  return Json{
      {"id", p.id},
      {"type", config::port_type_name(p.type())},
      {"thread", p.thread ? Json(*p.thread) : Json(nullptr)},
      {"vlan", vlan},
      {"state", kPortStateNotStarted},
      {"settings", settings},
      {"spec", config::to_keyval(p)},
  };
}

}  // namespace

void register_builtin_commands(CommandTable& table, Daemon& d) {
  table.add("version", "daemon version, pid, uptime and control socket", [&d](const Json&) {
    auto up = std::chrono::steady_clock::now() - d.started();
    return CommandReply::success(Json{
        {"package", "uvswitch"},
        {"version", UVS_VERSION},
        {"pid", static_cast<int>(getpid())},
        {"uptime-ms", std::chrono::duration_cast<std::chrono::milliseconds>(up).count()},
        {"control", d.config().control_path},
        {"config-file",
         d.config().config_file.empty() ? Json(nullptr) : Json(d.config().config_file)},
    });
  });

  table.add("threads", "per-loop counters (LoopStats) of every I/O thread and the control loop",
            [&d](const Json&) {
              Json out = Json::array();
              unsigned index = 0;
              for (const auto& t : d.io_threads()) {
                ev::LoopStats s;
                ev::LoopOptions o;
                // Stats are loop-thread-only: take them on the thread itself. The I/O loops are
                // not blocked by anything that waits on this thread, so this cannot deadlock.
                t->loop().run_in_loop_sync([&] {
                  s = t->loop().stats();
                  o = t->loop().options();
                });
                Json j = stats_json(s, o);
                j["name"] = t->name();
                j["role"] = "io";
                j["index"] = index++;
                out.push_back(std::move(j));
              }
              Json c = stats_json(d.control_loop().stats(), d.control_loop().options());
              c["name"] = "control";
              c["role"] = "control";
              c["index"] = nullptr;
              out.push_back(std::move(c));
              return CommandReply::success(std::move(out));
            });

  table.add("ports", "configured ports and their state (not started until the switch lands)",
            [&d](const Json&) {
              Json out = Json::array();
              for (const auto& p : d.config().ports) out.push_back(port_json(p));
              return CommandReply::success(std::move(out));
            });

  table.add("quit", "shut the daemon down cleanly", [&d](const Json&) {
    d.request_shutdown("quit command");
    return CommandReply::success(Json::object());
  });

  table.add("query-commands", "the commands this daemon knows", [&table](const Json&) {
    Json out = Json::array();
    for (const auto& [name, help] : table.list())
      out.push_back(Json{{"name", name}, {"help", help}});
    return CommandReply::success(std::move(out));
  });
}

}  // namespace uvs::daemon
