// SPDX-License-Identifier: MIT
// uvswitchctl: the control client: parse the subcommand, call the daemon, print a table or JSON.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>

#include "config/runtime_paths.h"
#include "config/suggest.h"
#include "tools/uvswitchctl/control_client.h"
#include "tools/uvswitchctl/ctl_commands.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // daemon unreachable, or the command returned an error
constexpr int kExitUsage = 2;

constexpr const char* kFooter =
    R"HELP(The daemon speaks one JSON object per line; --json prints its reply line as received,
e.g. {"return":[...]} or {"error":{"class":"...","desc":"..."}}.

EXIT CODES:
  0  the command succeeded
  1  the daemon is not reachable, or it answered with an error
  2  bad usage)HELP";

}  // namespace

int main(int argc, char** argv) {
  using namespace uvs::ctl;
  CLI::App app{"uvswitchctl: query and control a running uvswitch", "uvswitchctl"};
  app.footer(kFooter);
  app.require_subcommand(1);
  std::string control = uvs::config::default_control_path();
  bool json = false;
  int timeout_s = 10;
  app.add_option("--control", control, "control socket of the daemon")
      ->type_name("PATH")
      ->capture_default_str();
  app.add_flag("--json", json, "print the daemon's raw JSON reply");
  app.add_option("--timeout", timeout_s, "seconds to wait for a reply")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();

  std::vector<CtlCommand> commands = builtin_commands();
  std::vector<std::function<Request()>> builders(commands.size());
  std::vector<CLI::App*> subs;
  for (size_t i = 0; i < commands.size(); ++i) {
    CLI::App* sub = app.add_subcommand(commands[i].name, commands[i].help);
    if (commands[i].setup) builders[i] = commands[i].setup(*sub);
    subs.push_back(sub);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help of a subcommand
      app.exit(e);
      return kExitOk;
    }
    std::string message = e.what();
    // CLI11 reports an unknown command as a missing subcommand; name the word instead.
    std::vector<std::string_view> names;
    std::string list;
    for (const CtlCommand& c : commands) {
      names.push_back(c.name);
      list += (list.empty() ? "" : ", ") + c.name;
    }
    for (const std::string& extra : app.remaining()) {
      if (!extra.empty() && extra[0] != '-') {
        message = "unknown command '" + extra + "'" + uvs::config::did_you_mean(extra, names) +
                  " (commands: " + list + ")";
        break;
      }
    }
    std::fprintf(stderr, "uvswitchctl: %s\nuvswitchctl: run 'uvswitchctl --help' for the syntax\n",
                 message.c_str());
    return kExitUsage;
  }

  size_t which = 0;
  while (which < subs.size() && !subs[which]->parsed()) ++which;
  const CtlCommand& cmd = commands[which];
  Request req = builders[which] ? builders[which]() : Request{cmd.execute, Json::object()};

  ControlClient client;
  std::string error;
  if (!client.connect(control, &error)) {
    std::fprintf(stderr, "uvswitchctl: %s\n", error.c_str());
    return kExitFailed;
  }
  const bool pass_stdout = cmd.pass_stdout && cmd.pass_stdout(req);
  const int out_fd[] = {STDOUT_FILENO};
  CallResult r = client.call(req.execute, req.arguments, timeout_s * 1000,
                             pass_stdout ? std::span<const int>(out_fd) : std::span<const int>());
  if (!r.transport_ok) {
    std::fprintf(stderr, "uvswitchctl: %s\n", r.error.c_str());
    return kExitFailed;
  }
  const bool ok = r.reply.contains("return");
  if (ok && cmd.wait_for_close && !client.wait_closed(timeout_s * 1000)) {
    std::fprintf(stderr, "uvswitchctl: %s: the daemon accepted but did not hang up within %d s\n",
                 cmd.name.c_str(), timeout_s);
    return kExitFailed;
  }
  if (json && !pass_stdout) {
    std::cout << r.raw << '\n';
    return ok ? kExitOk : kExitFailed;
  }
  if (!ok) {
    const Json& e = r.reply["error"];
    std::fprintf(stderr, "uvswitchctl: %s: %s (%s)\n", req.execute.c_str(),
                 e.value("desc", std::string("?")).c_str(),
                 e.value("class", std::string("?")).c_str());
    return kExitFailed;
  }
  // When stdout carries a pcap stream, words for the user go to stderr.
  std::ostream& human = pass_stdout ? std::cerr : std::cout;
  if (cmd.render) {
    cmd.render(r.reply["return"], human);
  } else {
    human << r.reply["return"].dump(2) << '\n';
  }
  if (cmd.follow) return cmd.follow(r.reply["return"], control);
  return kExitOk;
}
