// SPDX-License-Identifier: MIT
// uvswitchctl's capture subcommands, and staying attached to a live capture stream (file=-).
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "config/capture_spec.h"
#include "tools/uvswitchctl/control_client.h"
#include "tools/uvswitchctl/ctl_commands.h"
#include "tools/uvswitchctl/live_capture.h"
#include "tools/uvswitchctl/text_table.h"

namespace uvs::ctl {
namespace {

std::string cell(const Json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return "-";
  const Json& v = obj[key];
  if (v.is_string()) return v.get<std::string>().empty() ? "-" : v.get<std::string>();
  return v.dump();
}

// The daemon resolves relative paths against its own directory, which is rarely what the user
// meant: make the file absolute here, against the directory uvswitchctl runs in.
std::string absolute_spec(const std::string& text) {
  config::Result<config::CaptureSpec> spec = config::parse_capture_spec(text);
  if (!spec || spec->file == "-" || spec->file.empty() || spec->file[0] == '/') return text;
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) return text;
  config::CaptureSpec s = *spec;
  s.file = std::string(cwd) + "/" + s.file;
  return config::to_keyval(s);
}

bool is_stream(const Request& r) {
  config::Result<config::CaptureSpec> spec =
      config::parse_capture_spec(r.arguments.value("spec", std::string()));
  return spec && spec->file == "-";
}

void render_captures(const Json& r, std::ostream& out) {
  if (r.empty()) {
    out << "no captures running\n";
    return;
  }
  TextTable t({"ID", "PORT", "DIR", "FILE", "FILTER", "WRITTEN", "FILTERED-OUT", "DROPPED",
               "FILES", "ERROR"});
  for (const Json& c : r) {
    t.add_row({cell(c, "id"), cell(c, "port"), cell(c, "dir"), cell(c, "file"), cell(c, "filter"),
               cell(c, "written"), cell(c, "filtered-out"), cell(c, "dropped"), cell(c, "files"),
               cell(c, "error")});
  }
  t.print(out);
}

}  // namespace

void add_capture_commands(std::vector<CtlCommand>& cmds) {
  CtlCommand start{"capture-start",
                   "capture a port to pcap: capture-start 'port=vm0,file=vm0.pcap[,filter=...]'; "
                   "file=- streams pcap to stdout (| tshark -r -) until interrupted",
                   "capture-start", nullptr, nullptr};
  start.setup = [](CLI::App& sub) -> std::function<Request()> {
    auto spec = std::make_shared<std::string>();
    sub.add_option("spec", *spec, "capture spec, as for uvswitch --capture")->required();
    return [spec] { return Request{"capture-start", Json{{"spec", absolute_spec(*spec)}}}; };
  };
  start.render = [](const Json& r, std::ostream& out) {
    out << "capture " << cell(r, "id") << " of " << cell(r, "port") << " started, writing "
        << (cell(r, "file") == "-" ? std::string("to stdout") : cell(r, "file")) << "\n";
  };
  start.pass_stdout = is_stream;
  start.follow = [](const Json& r, const std::string& control) {
    return r.value("file", std::string()) == "-"
               ? follow_live_capture(r.value("id", 0u), STDOUT_FILENO, control, "uvswitchctl")
               : 0;
  };
  cmds.push_back(std::move(start));

  CtlCommand stop{"capture-stop", "stop captures: capture-stop PORT [--id N] or capture-stop --id N",
                  "capture-stop", nullptr, nullptr};
  stop.setup = [](CLI::App& sub) -> std::function<Request()> {
    auto port = std::make_shared<std::string>();
    auto id = std::make_shared<unsigned>(0);
    sub.add_option("port", *port, "port id (all of its captures unless --id)");
    sub.add_option("--id", *id, "only this capture (see: uvswitchctl captures)")
        ->check(CLI::Range(1u, 4294967295u));
    sub.callback([&sub, port, id] {
      if (port->empty() && *id == 0) throw CLI::ValidationError("capture-stop", "give PORT or --id N");
      (void)sub;
    });
    return [port, id] {
      Json a = Json::object();
      if (!port->empty()) a["port"] = *port;
      if (*id) a["id"] = *id;
      return Request{"capture-stop", a};
    };
  };
  stop.render = [](const Json& r, std::ostream& out) {
    out << "stopped capture" << (r["stopped"].size() == 1 ? " " : "s ");
    std::string ids;
    for (const Json& i : r["stopped"]) ids += (ids.empty() ? "" : ", ") + i.dump();
    out << ids << "\n";
  };
  cmds.push_back(std::move(stop));

  cmds.push_back({"captures", "the running captures: written, filtered-out and dropped counts",
                  "captures", nullptr, render_captures});
}

}  // namespace uvs::ctl
