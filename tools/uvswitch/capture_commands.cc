// SPDX-License-Identifier: MIT
// The capture control commands: argument checks, then CaptureTable calls.
#include "tools/uvswitch/capture_commands.h"

#include <unistd.h>

#include "config/capture_spec.h"
#include "tools/uvswitch/capture_table.h"
#include "tools/uvswitch/daemon.h"

namespace uvs::daemon {
namespace {

CommandReply bad(const std::string& what) { return CommandReply::failure("GenericError", what); }

}  // namespace

void register_capture_commands(CommandTable& table, Daemon& d) {
  table.add_with_fds(
      "capture-start",
      "start a pcap capture: {\"spec\": \"port=vm0,file=/tmp/vm0.pcap[,filter=...]\"}; with "
      "file=- the pcap stream goes to the descriptor passed with the request",
      [&d](const Json& args, FdList& fds) {
        if (!args.contains("spec") || !args["spec"].is_string()) {
          return bad("capture-start needs \"spec\": a capture spec string");
        }
        config::Result<config::CaptureSpec> spec =
            config::parse_capture_spec(args["spec"].get<std::string>());
        if (!spec) return bad("capture " + args["spec"].get<std::string>() + ": " +
                              spec.error().message);
        int fd = -1;
        if (spec->file == "-" && !fds.empty()) {
          fd = fds.front();
          fds.erase(fds.begin());
        }
        std::string error;
        std::optional<unsigned> id = d.captures().start(*spec, fd, &error);
        if (!id) return bad(error);
        return CommandReply::success(
            Json{{"id", *id}, {"port", spec->port}, {"file", spec->file}});
      });

  table.add("capture-stop", "stop captures: {\"port\": ID} (all of that port) or {\"id\": N}",
            [&d](const Json& args) {
              std::string port;
              std::optional<unsigned> id;
              if (args.contains("port")) {
                if (!args["port"].is_string()) return bad("\"port\" must be a port id");
                port = args["port"].get<std::string>();
              }
              if (args.contains("id")) {
                if (!args["id"].is_number_unsigned()) return bad("\"id\" must be a capture id");
                id = args["id"].get<unsigned>();
              }
              if (port.empty() && !id) return bad("capture-stop needs \"port\" or \"id\"");
              std::string error;
              std::vector<unsigned> ids = d.captures().stop(port, id, &error);
              if (ids.empty()) return bad(error);
              return CommandReply::success(Json{{"stopped", ids}});
            });

  table.add("captures", "the running captures with written, filtered-out and dropped counts",
            [&d](const Json&) { return CommandReply::success(d.captures().list()); });
}

}  // namespace uvs::daemon
