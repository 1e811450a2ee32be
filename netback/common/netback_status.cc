// SPDX-License-Identifier: MIT
// Readable names and formatting for NetbackError / Status.
#include "netback/common/netback_status.h"

#include <cstring>

namespace uvs::netback {

const char* error_name(NetbackError e) noexcept {
  switch (e) {
    case NetbackError::kOk: return "ok";
    case NetbackError::kInvalidOption: return "invalid option";
    case NetbackError::kSocket: return "socket error";
    case NetbackError::kPathInUse: return "path in use";
    case NetbackError::kMemory: return "guest memory error";
    case NetbackError::kProtocol: return "vhost-user protocol error";
    case NetbackError::kDevice: return "device error";
  }
  return "unknown error";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string s = message;
  s += ": ";
  s += error_name(code);
  if (err != 0) {
    s += ": ";
    s += std::strerror(err);
  }
  return s;
}

}  // namespace uvs::netback
