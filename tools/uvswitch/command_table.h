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

/// File descriptors that arrived with a request (SCM_RIGHTS on the control socket). A handler
/// that keeps one removes it from the list; whatever is left is closed after the handler.
using FdList = std::vector<int>;
/// A handler that may take descriptors the client passed (capture-start's live stream).
using FdCommandHandler = std::function<CommandReply(const Json& args, FdList& fds)>;

/// The commands the control socket serves. Each feature registers its own (port-add, stats,
/// fdb, capture ...) with add(); nothing else changes. Control thread only.
class CommandTable {
 public:
  /// Registers `name`; a second add() of the same name replaces the first.
  void add(std::string name, std::string help, CommandHandler handler);
  /// Registers `name` as a command that accepts passed descriptors. Commands added with add()
  /// get theirs closed before they run.
  void add_with_fds(std::string name, std::string help, FdCommandHandler handler);
  /// Runs the command named by request["execute"] and returns the reply object to send:
  /// {"return": ...} or {"error": {...}}, plus "id" copied from the request when present.
  /// Malformed requests (not an object, no "execute", non-object "arguments") get GenericError;
  /// unknown names get CommandNotFound. Never throws.
  Json dispatch(const Json& request) const;
  /// The same with the descriptors that came with the request; on return `fds` is empty (each
  /// one was taken by the handler or closed).
  Json dispatch(const Json& request, FdList& fds) const;
  /// (name, help) of every command, sorted by name.
  std::vector<std::pair<std::string, std::string>> list() const;

 private:
  struct Entry {
    std::string help;
    FdCommandHandler handler;
    bool takes_fds = false;
  };
  std::map<std::string, Entry, std::less<>> commands_;
};

/// {"error": {"class": cls, "desc": desc}}.
Json error_reply(std::string_view cls, std::string_view desc);

}  // namespace uvs::daemon
