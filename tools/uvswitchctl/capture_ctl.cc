// SPDX-License-Identifier: MIT
// uvswitchctl's capture subcommands, and staying attached to a live capture stream (file=-).
#include <poll.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>

#include "config/capture_spec.h"
#include "tools/uvswitchctl/control_client.h"
#include "tools/uvswitchctl/ctl_commands.h"
#include "tools/uvswitchctl/text_table.h"

namespace uvs::ctl {
namespace {

volatile sig_atomic_t g_interrupted = 0;
void on_signal(int) { g_interrupted = 1; }

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

// Whether capture `id` still runs; nullopt when the daemon cannot be asked.
std::optional<bool> capture_running(const std::string& control, unsigned id) {
  ControlClient c;
  std::string error;
  if (!c.connect(control, &error)) return std::nullopt;
  CallResult r = c.call("captures", Json::object(), 5000);
  if (!r.transport_ok || !r.reply.contains("return")) return std::nullopt;
  for (const Json& cap : r.reply["return"]) {
    if (cap.value("id", 0u) == id) return true;
  }
  return false;
}

// Stays attached to a live capture: until SIGINT/SIGTERM/SIGHUP, until the reader of stdout
// goes away (then the capture is stopped), or until the capture ends in the daemon.
int follow_stream(const Json& ret, const std::string& control) {
  const unsigned id = ret.value("id", 0u);
  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: poll() returns EINTR at once
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // The daemon has its own copy of stdout; keeping ours open costs nothing and lets poll()
  // report POLLERR when the reader (tshark) exits.
  for (;;) {
    pollfd p{STDOUT_FILENO, 0, 0};
    const int rc = ::poll(&p, 1, 250);
    const bool reader_gone = rc > 0 && (p.revents & (POLLERR | POLLHUP));
    if (g_interrupted || reader_gone) {
      ControlClient c;
      std::string error;
      if (c.connect(control, &error)) c.call("capture-stop", Json{{"id", id}}, 5000);
      std::fprintf(stderr, "uvswitchctl: capture %u stopped (%s)\n", id,
                   g_interrupted ? "interrupted" : "reader closed the stream");
      return 0;
    }
    std::optional<bool> running = capture_running(control, id);
    if (!running) {
      std::fprintf(stderr, "uvswitchctl: lost the daemon at %s; capture %u ends with it\n",
                   control.c_str(), id);
      return 1;
    }
    if (!*running) {
      std::fprintf(stderr, "uvswitchctl: capture %u ended\n", id);
      return 0;
    }
  }
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
    return r.value("file", std::string()) == "-" ? follow_stream(r, control) : 0;
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
