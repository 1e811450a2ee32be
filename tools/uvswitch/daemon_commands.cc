// SPDX-License-Identifier: MIT
// The built-in control commands: version, threads, ports, port-add/del, stats, fdb, quit ...
#include <unistd.h>

#include <chrono>

#include "config/keyval.h"
#include "config/port_spec.h"
#include "config/port_spec_parser.h"
#include "eventloop/clock.h"
#include "eventloop/loop_stats.h"
#include "switch/eth.h"
#include "tools/uvswitch/daemon.h"

namespace uvs::daemon {
namespace {

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
      {"pollers", s.pollers},
      {"poller-hits", s.poller_hits},
      {"poller-sleeps", s.poller_sleeps},
      {"monitor", s.monitor ? s.monitor : ""},
      {"poll-max-ns", o.poll_max_ns},
      {"poll-grow", o.poll_grow},
      {"poll-shrink", o.poll_shrink},
  };
}

/// A port's spec as JSON fields: its settings, VLAN and canonical keyval text.
Json spec_json(const config::PortSpec& p) {
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
  return Json{{"vlan", vlan}, {"settings", settings}, {"spec", config::to_keyval(p)}};
}

CommandReply bad_args(const std::string& what) {
  return CommandReply::failure("GenericError", what);
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
              bridge::PortThreads& pt = d.port_threads();
              for (size_t i = 0; i < pt.size(); ++i) {
                ev::LoopStats s;
                ev::LoopOptions o;
                // Stats are loop-thread-only: take them on the thread itself. The I/O loops are
                // not blocked by anything that waits on this thread, so this cannot deadlock.
                pt.loop(i).run_in_loop_sync([&] {
                  s = pt.loop(i).stats();
                  o = pt.loop(i).options();
                });
                Json j = stats_json(s, o);
                j["name"] = pt.name(i);
                j["role"] = "io";
                j["index"] = i;
                out.push_back(std::move(j));
              }
              Json c = stats_json(d.control_loop().stats(), d.control_loop().options());
              c["name"] = "control";
              c["role"] = "control";
              c["index"] = nullptr;
              out.push_back(std::move(c));
              return CommandReply::success(std::move(out));
            });

  table.add("ports", "the running ports: type, thread, VLAN, state and counters",
            [&d](const Json&) {
              Json out = d.ports().list();
              for (Json& p : out) {
                const config::PortSpec* spec = d.ports().spec(p["id"].get<std::string>());
                if (spec) p.update(spec_json(*spec));
              }
              return CommandReply::success(std::move(out));
            });

  table.add("port-add", "add a port at run time: {\"spec\": \"vhost-user,id=vm1,path=...\"}",
            [&d](const Json& args) {
              if (!args.contains("spec") || !args["spec"].is_string()) {
                return bad_args("port-add needs \"spec\": a port spec string");
              }
              config::Result<config::Keyval> kv = config::parse_keyval(
                  args["spec"].get<std::string>(), config::KeyvalType::kLeading);
              if (!kv) return bad_args(kv.error().message);
              // fd= names a descriptor of the uvswitch process: a control client cannot hand
              // one over this socket, and must not reach the daemon's own fds by number.
              if (kv->find("fd")) {
                return bad_args(
                    "fd: port-add cannot take an inherited fd (give fd= at start-up with --fd "
                    "or --port); use path= here");
              }
              config::Result<config::PortSpec> spec = config::parse_port_spec(*kv);
              if (!spec) return bad_args(spec.error().message);
              std::string error;
              if (!d.ports().add(*spec, &error)) return bad_args(error);
              return CommandReply::success(Json{{"id", spec->id}});
            });

  table.add("port-del", "remove a port: {\"id\": \"vm1\"}", [&d](const Json& args) {
    if (!args.contains("id") || !args["id"].is_string()) {
      return bad_args("port-del needs \"id\": the port's id");
    }
    std::string error;
    if (!d.ports().remove(args["id"].get<std::string>(), &error)) return bad_args(error);
    return CommandReply::success(Json::object());
  });

  table.add("stats", "per-port, per-thread and FDB counters of the switch", [&d](const Json&) {
    bridge::BridgeStats bs = d.bridge().stats();
    Json threads = Json::array();
    for (const bridge::ThreadStats& t : bs.threads) {
      threads.push_back(Json{{"thread", t.thread},
                             {"bursts", t.bursts},
                             {"flooded", t.flooded},
                             {"ring-out", t.ring_out},
                             {"ring-in", t.ring_in},
                             {"drop-ring-full", t.drop_ring_full},
                             {"drop-too-big", t.drop_too_big},
                             {"drop-stale", t.drop_stale},
                             {"drop-inactive", t.drop_inactive}});
    }
    const bridge::FdbStats& f = bs.fdb;
    return CommandReply::success(Json{{"ports", d.ports().list()},
                                      {"threads", threads},
                                      {"fdb", Json{{"entries", f.entries},
                                                   {"capacity", f.capacity},
                                                   {"learned", f.learned},
                                                   {"moved", f.moved},
                                                   {"aged", f.aged},
                                                   {"flushed", f.flushed},
                                                   {"full", f.full}}}});
  });

  table.add("fdb", "the learned MAC table: VLAN, MAC, port, age", [&d](const Json&) {
    bridge::BridgeStats bs = d.bridge().stats();
    const int64_t now = ev::now_ns();
    Json out = Json::array();
    for (const bridge::FdbRecord& r : d.bridge().fdb_dump()) {
      std::string port = "?";
      for (const bridge::PortStats& ps : bs.ports) {
        if (ps.index == r.port) port = ps.name;
      }
      out.push_back(Json{{"vlan", r.vlan},
                         {"mac", bridge::format_mac(r.mac)},
                         {"port", port},
                         {"age-ms", (now - r.last_seen_ns) / 1'000'000}});
    }
    return CommandReply::success(std::move(out));
  });

  table.add("fdb-flush", "forget learned MACs: all, or {\"port\": ID} or {\"vlan\": V}",
            [&d](const Json& args) {
              size_t n = 0;
              if (args.contains("port")) {
                if (!args["port"].is_string()) return bad_args("\"port\" must be a port id");
                auto idx = d.bridge().find_port(args["port"].get<std::string>());
                if (!idx)
                  return bad_args("no port with id '" + args["port"].get<std::string>() + "'");
                n = d.bridge().flush_fdb_port(*idx);
              } else if (args.contains("vlan")) {
                if (!args["vlan"].is_number_unsigned() || args["vlan"].get<unsigned>() < 1 ||
                    args["vlan"].get<unsigned>() > 4094) {
                  return bad_args("\"vlan\" must be a VLAN id 1..4094");
                }
                n = d.bridge().flush_fdb_vlan(static_cast<uint16_t>(args["vlan"].get<unsigned>()));
              } else {
                n = d.bridge().flush_fdb();
              }
              return CommandReply::success(Json{{"flushed", n}});
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
