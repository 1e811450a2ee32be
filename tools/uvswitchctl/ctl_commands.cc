// SPDX-License-Identifier: MIT
// uvswitchctl's subcommands and their human-readable renderings (tables for threads and ports).
#include "tools/uvswitchctl/ctl_commands.h"

#include <cstdint>
#include <cstdio>

#include "tools/uvswitchctl/nat_ctl_commands.h"
#include "tools/uvswitchctl/text_table.h"

namespace uvs::ctl {
namespace {

// A JSON scalar as table text ("-" for null or missing).
std::string cell(const Json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return "-";
  const Json& v = obj[key];
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

// [10,11,12,20] -> "10-12,20".
std::string vlan_ranges(const Json& vlans) {
  std::string out;
  size_t i = 0;
  while (i < vlans.size()) {
    size_t j = i;
    while (j + 1 < vlans.size() && vlans[j + 1].get<int>() == vlans[j].get<int>() + 1) ++j;
    out += (out.empty() ? "" : ",") + vlans[i].dump();
    if (j > i) out += "-" + vlans[j].dump();
    i = j + 1;
  }
  return out;
}

// The port-security drops of a port's "switch" counters, the non-zero reasons only
// ("allowed-mac=12,bum-rate=3"); "0" when there are none, "-" without counters.
std::string security_drops(const Json& sw) {
  if (!sw.is_object()) return "-";
  std::string out;
  bool counted = false;
  for (const char* reason : {"max-macs", "allowed-mac", "bum-rate"}) {
    const std::string key = std::string("drop-") + reason;
    if (!sw.contains(key) || !sw[key].is_number_unsigned()) continue;
    counted = true;
    const uint64_t n = sw[key].get<uint64_t>();
    if (n != 0) out += (out.empty() ? "" : ",") + std::string(reason) + "=" + std::to_string(n);
  }
  if (!counted) return "-";
  return out.empty() ? "0" : out;
}

void render_version(const Json& r, std::ostream& out) {
  double up_s = r.value("uptime-ms", 0) / 1000.0;
  char up[32];
  std::snprintf(up, sizeof up, "%.1f", up_s);
  out << cell(r, "package") << " " << cell(r, "version") << ", pid " << cell(r, "pid") << ", up "
      << up << " s\n";
  out << "control socket: " << cell(r, "control") << "\n";
  out << "config file:    "
      << (r.contains("config-file") && r["config-file"].is_string()
              ? r["config-file"].get<std::string>()
              : std::string("(none)"))
      << "\n";
}

void render_threads(const Json& r, std::ostream& out) {
  TextTable t({"NAME", "ROLE", "MONITOR", "ITERATIONS", "WAITS", "POLL-HIT", "POLL-MISS", "POLL-MS",
               "WINDOW-NS", "MAX-NS", "HANDLERS", "POLLED", "FD-EV", "POLL-EV", "BH", "TIMERS"});
  for (const Json& th : r) {
    char poll_ms[32];
    std::snprintf(poll_ms, sizeof poll_ms, "%.3f", th.value("poll-ns-total", 0.0) / 1e6);
    t.add_row({cell(th, "name"), cell(th, "role"), cell(th, "monitor"), cell(th, "iterations"),
               cell(th, "blocking-waits"), cell(th, "poll-hits"), cell(th, "poll-misses"), poll_ms,
               cell(th, "poll-window-ns"), cell(th, "poll-max-ns"), cell(th, "handlers"),
               cell(th, "polled-handlers"), cell(th, "fd-events"), cell(th, "poll-events"),
               cell(th, "bhs-run"), cell(th, "timers-fired")});
  }
  t.print(out);
}

void render_ports(const Json& r, std::ostream& out) {
  if (r.empty()) {
    out << "no ports configured\n";
    return;
  }
  TextTable t({"ID", "TYPE", "THREAD", "VLAN", "STATE", "SECURITY-DROPS", "SETTINGS"});
  for (const Json& p : r) {
    std::string vlan = "-";
    if (p.contains("vlan") && p["vlan"].is_object()) {
      const Json& v = p["vlan"];
      if (v.value("mode", "") == "trunk") {
        vlan = "trunk:" + vlan_ranges(v["vlans"]);
      } else {
        vlan = cell(v, "vlan");
      }
    }
    std::string settings;
    if (p.contains("settings") && p["settings"].is_object()) {
      for (auto it = p["settings"].begin(); it != p["settings"].end(); ++it) {
        auto add = [&](const Json& v) {
          settings += (settings.empty() ? "" : " ") + it.key() + "=" +
                      (v.is_string() ? v.get<std::string>() : v.dump());
        };
        if (it.value().is_array()) {
          for (const Json& v : it.value()) add(v);
        } else {
          add(it.value());
        }
      }
    }
    std::string thread = cell(p, "thread");
    t.add_row({cell(p, "id"), cell(p, "type"), thread == "-" ? "auto" : thread, vlan,
               cell(p, "state"), security_drops(p.value("switch", Json())), settings});
  }
  t.print(out);
}

void render_stats(const Json& r, std::ostream& out) {
  TextTable t({"PORT", "TYPE", "THREAD", "STATE", "IN-FRAMES", "IN-BYTES", "OUT-FRAMES",
               "OUT-BYTES", "DROP-NOBUF", "DROP-VLAN", "DROP-DOWN", "DROP-BROKEN"});
  for (const Json& p : r["ports"]) {
    const Json& s = p["switch"];
    t.add_row({cell(p, "id"), cell(p, "type"), cell(p, "thread"), cell(p, "state"),
               cell(s, "in-frames"), cell(s, "in-bytes"), cell(s, "out-frames"),
               cell(s, "out-bytes"), cell(s, "drop-no-buffers"), cell(s, "drop-vlan"),
               cell(s, "drop-port-down"), cell(s, "drop-broken")});
  }
  t.print(out);
  render_nat_stats(r["ports"], out);
  out << "\n";
  TextTable th(
      {"THREAD", "BURSTS", "FLOODED", "RING-OUT", "RING-IN", "DROP-RING-FULL", "DROP-TOO-BIG"});
  for (const Json& x : r["threads"]) {
    th.add_row({cell(x, "thread"), cell(x, "bursts"), cell(x, "flooded"), cell(x, "ring-out"),
                cell(x, "ring-in"), cell(x, "drop-ring-full"), cell(x, "drop-too-big")});
  }
  th.print(out);
  const Json& f = r["fdb"];
  out << "\nfdb: " << cell(f, "entries") << " entries (capacity " << cell(f, "capacity")
      << "), learned " << cell(f, "learned") << ", moved " << cell(f, "moved") << ", aged "
      << cell(f, "aged") << ", flushed " << cell(f, "flushed") << "\n";
}

void render_fdb(const Json& r, std::ostream& out) {
  TextTable t({"VLAN", "MAC", "PORT", "AGE-MS"});
  for (const Json& e : r)
    t.add_row({cell(e, "vlan"), cell(e, "mac"), cell(e, "port"), cell(e, "age-ms")});
  t.print(out);
}

/// A subcommand whose single positional argument becomes one string field of the request.
CtlCommand with_string_arg(std::string name, std::string help, std::string field,
                           std::string arg_help,
                           std::function<void(const Json&, std::ostream&)> render) {
  CtlCommand c{name, std::move(help), name, nullptr, std::move(render)};
  c.setup = [name, field, arg_help](CLI::App& sub) -> std::function<Request()> {
    auto value = std::make_shared<std::string>();
    sub.add_option(field, *value, arg_help)->required();
    return [name, field, value] { return Request{name, Json{{field, *value}}}; };
  };
  return c;
}

}  // namespace

std::vector<CtlCommand> builtin_commands() {
  std::vector<CtlCommand> cmds;
  cmds.push_back({"version", "show the daemon's version, pid, uptime and control socket", "version",
                  nullptr, render_version});
  cmds.push_back({"threads", "show every event loop's counters (I/O threads and control loop)",
                  "threads", nullptr, render_threads});
  cmds.push_back(
      {"ports", "list the configured ports and their state", "ports", nullptr, render_ports});
  cmds.push_back(with_string_arg(
      "port-add", "add a port: port-add 'vhost-user,id=vm1,path=...'", "spec",
      "port spec, as for uvswitch --port",
      [](const Json& r, std::ostream& out) { out << "added port " << cell(r, "id") << "\n"; }));
  cmds.push_back(with_string_arg("port-del", "remove a port: port-del ID", "id", "port id",
                                 [](const Json&, std::ostream& out) { out << "removed\n"; }));
  cmds.push_back(
      {"stats", "per-port, per-thread and FDB counters", "stats", nullptr, render_stats});
  cmds.push_back({"fdb", "the learned MAC table", "fdb", nullptr, render_fdb});
  cmds.push_back({"metrics",
                  "every counter in the Prometheus text format (as for --metrics-file; check it "
                  "with promtool check metrics)",
                  "metrics", nullptr, [](const Json& r, std::ostream& out) {
                    out << r.value("text", std::string());
                  }});
  CtlCommand flush{"fdb-flush", "forget learned MACs: fdb-flush [--port ID | --vlan V]",
                   "fdb-flush", nullptr, [](const Json& r, std::ostream& out) {
                     out << "flushed " << cell(r, "flushed") << " entries\n";
                   }};
  flush.setup = [](CLI::App& sub) -> std::function<Request()> {
    auto port = std::make_shared<std::string>();
    auto vlan = std::make_shared<unsigned>(0);
    auto* po = sub.add_option("--port", *port, "only this port's entries");
    sub.add_option("--vlan", *vlan, "only this VLAN's entries")
        ->check(CLI::Range(1u, 4094u))
        ->excludes(po);
    return [port, vlan] {
      Json a = Json::object();
      if (!port->empty()) a["port"] = *port;
      if (*vlan) a["vlan"] = *vlan;
      return Request{"fdb-flush", a};
    };
  };
  cmds.push_back(std::move(flush));
  add_nat_commands(cmds);
  cmds.push_back({"quit", "shut the daemon down cleanly and wait until it has", "quit", nullptr,
                  [](const Json&, std::ostream& out) { out << "uvswitch shut down\n"; }, true});

  // `call NAME [ARGS]`: any daemon command, for commands newer than this client and for scripts.
  CtlCommand call{"call", "call any daemon command by name: call NAME ['{\"arg\":...}']", "",
                  nullptr, nullptr};
  call.setup = [](CLI::App& sub) -> std::function<Request()> {
    auto name = std::make_shared<std::string>();
    auto args = std::make_shared<std::string>();
    sub.add_option("name", *name, "daemon command (see: call query-commands)")->required();
    sub.add_option("arguments", *args, "arguments as a JSON object")
        ->check([](const std::string& text) -> std::string {
          Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
          return j.is_object() ? std::string()
                               : "arguments must be a JSON object, e.g. '{\"x\":1}'";
        });
    return [name, args] {
      return Request{*name, args->empty() ? Json::object() : Json::parse(*args)};
    };
  };
  cmds.push_back(std::move(call));
  add_capture_commands(cmds);
  return cmds;
}

}  // namespace uvs::ctl
