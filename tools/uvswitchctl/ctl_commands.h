// SPDX-License-Identifier: MIT
// CtlCommand: one uvswitchctl subcommand: its daemon command, its arguments and its human output.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace uvs::ctl {

using Json = nlohmann::ordered_json;

/// What to send: the daemon command and its "arguments".
struct Request {
  std::string execute;
  Json arguments = Json::object();
};

/// A subcommand. Adding one (port-add, stats, fdb, capture ...) means adding an entry to
/// builtin_commands(): a name, the daemon command it calls, how to read its arguments, and how
/// to print its reply. Parsing, connecting, --json and errors are shared.
struct CtlCommand {
  std::string name;  ///< subcommand name
  std::string help;
  std::string execute;  ///< daemon command to call (usually == name)
  /// Optional: adds the subcommand's own options/positionals to `sub` (validating them, so bad
  /// input is a usage error) and returns a function that, after parsing, builds the request.
  /// Null: Request{execute, {}}.
  std::function<std::function<Request()>(CLI::App& sub)> setup;
  /// Prints a successful "return" value for humans. Null: pretty-printed JSON.
  std::function<void(const Json& ret, std::ostream& out)> render;
  /// After a successful reply, wait for the daemon to hang up (quit).
  bool wait_for_close = false;
  /// Optional: true when the request should carry uvswitchctl's stdout (SCM_RIGHTS) for the
  /// daemon to write to (capture-start with file=-). The rendering then goes to stderr.
  std::function<bool(const Request&)> pass_stdout;
  /// Optional: runs after a successful, rendered reply and returns the exit code (a live
  /// capture stays attached here until interrupted or stopped).
  std::function<int(const Json& ret, const std::string& control)> follow;
};

/// The subcommands uvswitchctl knows: version, threads, ports, quit, and `call` (any daemon
/// command by name, with optional JSON arguments).
std::vector<CtlCommand> builtin_commands();

/// capture-start, capture-stop and captures (capture_ctl.cc).
void add_capture_commands(std::vector<CtlCommand>& cmds);

}  // namespace uvs::ctl
