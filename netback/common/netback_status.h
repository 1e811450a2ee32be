// SPDX-License-Identifier: MIT
// NetbackError and Status: how netback reports start-up and control-path failures.
#pragma once

#include <string>
#include <utility>

namespace uvs::netback {

/// Why a netback start-up or control-path operation failed. Readable via error_name().
enum class NetbackError {
  kOk,
  kInvalidOption,  ///< a bad option value (queue pairs, MTU, socket path too long, ...)
  kSocket,         ///< socket / bind / listen / connect / accept failed
  kPathInUse,      ///< the socket path is not a socket, or another process listens on it
  kMemory,         ///< mmap of a guest memory region failed, or the region table is invalid
  kProtocol,       ///< the vhost-user peer broke the protocol
  kDevice,         ///< a DPDK device could not be probed, configured or started
};

/// Readable name ("socket error", ...). Never returns nullptr.
const char* error_name(NetbackError e) noexcept;

/// Outcome of a start-up call: ok, or an error code, errno (0 if none) and a message that names
/// the offending thing (path, option).
struct Status {
  NetbackError code = NetbackError::kOk;
  int err = 0;
  std::string message;

  bool ok() const noexcept { return code == NetbackError::kOk; }
  explicit operator bool() const noexcept { return ok(); }

  /// "message: error name: strerror(err)"; "ok" for success.
  std::string to_string() const;

  static Status success() { return {}; }
  /// Builds a failure; `err` is an errno value or 0.
  static Status fail(NetbackError code, std::string message, int err = 0) {
    return Status{code, err, std::move(message)};
  }
};

}  // namespace uvs::netback
