// SPDX-License-Identifier: MIT
// CommandTable: request validation and dispatch to the registered handlers.
#include "tools/uvswitch/command_table.h"

#include <unistd.h>

#include <exception>

namespace uvs::daemon {
namespace {

void close_all(FdList& fds) {
  for (int fd : fds) ::close(fd);
  fds.clear();
}

}  // namespace

Json error_reply(std::string_view cls, std::string_view desc) {
  return Json{{"error", {{"class", cls}, {"desc", desc}}}};
}

void CommandTable::add(std::string name, std::string help, CommandHandler handler) {
  commands_[std::move(name)] =
      Entry{std::move(help), [h = std::move(handler)](const Json& a, FdList&) { return h(a); },
            false};
}

void CommandTable::add_with_fds(std::string name, std::string help, FdCommandHandler handler) {
  commands_[std::move(name)] = Entry{std::move(help), std::move(handler), true};
}

Json CommandTable::dispatch(const Json& request) const {
  FdList none;
  return dispatch(request, none);
}

Json CommandTable::dispatch(const Json& request, FdList& fds) const {
  // Descriptors nobody took must not leak into the daemon, whatever the request was.
  struct CloseRest {
    FdList& fds;
    ~CloseRest() { close_all(fds); }
  } close_rest{fds};
  Json reply;
  if (!request.is_object()) {
    reply = error_reply("GenericError",
                        "a request must be a JSON object like {\"execute\":\"version\"}");
  } else if (!request.contains("execute") || !request["execute"].is_string()) {
    reply = error_reply("GenericError", "missing \"execute\" (the command name, a string)");
  } else if (request.contains("arguments") && !request["arguments"].is_object()) {
    reply = error_reply("GenericError", "\"arguments\" must be an object");
  } else {
    const std::string name = request["execute"].get<std::string>();
    auto it = commands_.find(name);
    if (it == commands_.end()) {
      reply = error_reply("CommandNotFound", "the command " + name + " has not been found");
    } else {
      static const Json kNoArgs = Json::object();
      const Json& args = request.contains("arguments") ? request["arguments"] : kNoArgs;
      try {
        if (!it->second.takes_fds) close_all(fds);
        CommandReply r = it->second.handler(args, fds);
        reply = r.ok ? Json{{"return", std::move(r.value)}} : error_reply(r.error_class, r.desc);
      } catch (const std::exception& e) {
        // A handler bug must not take the control socket down; report it to the caller.
        reply = error_reply("GenericError", std::string("internal error: ") + e.what());
      }
    }
  }
  if (request.is_object() && request.contains("id")) reply["id"] = request["id"];
  return reply;
}

std::vector<std::pair<std::string, std::string>> CommandTable::list() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, entry] : commands_) out.emplace_back(name, entry.help);
  return out;
}

}  // namespace uvs::daemon
