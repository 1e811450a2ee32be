// SPDX-License-Identifier: MIT
// ControlClient: connects to uvswitch's control socket and makes line-delimited JSON calls.
#pragma once

#include <span>
#include <string>

#include <nlohmann/json.hpp>

namespace uvs::ctl {

/// Ordered, so a reply prints its fields in the order the daemon sent them.
using Json = nlohmann::ordered_json;

/// The outcome of one call.
struct CallResult {
  bool transport_ok = false;  ///< false: connect/send/receive failed; see `error`
  std::string error;          ///< transport error text
  std::string raw;            ///< the reply line as received
  Json reply;                 ///< the parsed reply object
};

/// A connection to the daemon. Blocking; one call at a time. Not thread-safe.
class ControlClient {
 public:
  ControlClient() = default;
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  /// Connects to `path`. False with a message naming the path (and a hint when nothing
  /// listens there) in `*error`.
  bool connect(const std::string& path, std::string* error);
  /// Sends {"execute": name, "arguments": args} and waits up to `timeout_ms` for the reply line.
  /// `fds` ride along with the request (SCM_RIGHTS), for commands that take descriptors.
  CallResult call(const std::string& name, const Json& args, int timeout_ms,
                  std::span<const int> fds = {});
  /// Waits up to `timeout_ms` for the daemon to close the connection (after quit). True on EOF.
  bool wait_closed(int timeout_ms);

 private:
  bool read_line(std::string* line, int timeout_ms, std::string* error);

  int fd_ = -1;
  std::string path_;
  std::string buf_;
};

}  // namespace uvs::ctl
