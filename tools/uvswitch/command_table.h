// SPDX-License-Identifier: MIT
// CommandTable: the control protocol's command names, mapped to handlers that build JSON replies.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace uvs::daemon {

/// Ordered, so replies keep their fields in the order the handlers wrote them.
using Json = nlohmann::ordered_json;

/// What a command produced: a value for {"return": ...} or an error for
/// {"error": {"class": ..., "desc": ...}} (QMP's shapes; classes follow QMP: GenericError,
/// CommandNotFound).
struct CommandReply {
  bool ok = true;
  Json value = Json::object();
  std::string error_class;
  std::string desc;

  static CommandReply success(Json v) { return CommandReply{true, std::move(v), {}, {}}; }
  static CommandReply failure(std::string cls, std::string desc) {
    return CommandReply{false, Json(), std::move(cls), std::move(desc)};
  }
};

/// A command handler: gets the request's "arguments" object (empty when absent). Runs on the
/// control loop's thread and may block it briefly (e.g. run_in_loop_sync to I/O threads).
using CommandHandler = std::function<CommandReply(const Json& args)>;

/// The commands the control socket serves. Later issues add theirs (port-add, stats, fdb,
/// capture ...) with add(); nothing else changes. Control thread only.
class CommandTable {
 public:
  /// Registers `name`; a second add() of the same name replaces the first.
  void add(std::string name, std::string help, CommandHandler handler);
  /// Runs the command named by request["execute"] and returns the reply object to send:
  /// {"return": ...} or {"error": {...}}, plus "id" copied from the request when present.
  /// Malformed requests (not an object, no "execute", non-object "arguments") get GenericError;
  /// unknown names get CommandNotFound. Never throws.
  Json dispatch(const Json& request) const;
  /// (name, help) of every command, sorted by name.
  std::vector<std::pair<std::string, std::string>> list() const;

 private:
  struct Entry {
    std::string help;
    CommandHandler handler;
  };
  std::map<std::string, Entry, std::less<>> commands_;
};

/// {"error": {"class": cls, "desc": desc}}.
Json error_reply(std::string_view cls, std::string_view desc);

}  // namespace uvs::daemon
