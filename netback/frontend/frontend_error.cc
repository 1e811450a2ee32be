// SPDX-License-Identifier: MIT
// Readable messages for FrontendError and Status.
#include "netback/frontend/frontend_error.h"

#include <cstring>

namespace uvs::frontend {

const char* error_name(FrontendError e) noexcept {
  switch (e) {
    case FrontendError::kOk: return "ok";
    case FrontendError::kMemory: return "guest memory error";
    case FrontendError::kSocket: return "socket error";
    case FrontendError::kTimeout: return "timed out waiting for the backend";
    case FrontendError::kPeerClosed: return "backend closed the connection";
    case FrontendError::kSendFailed: return "sending to the backend failed";
    case FrontendError::kBadReply: return "malformed reply from the backend";
    case FrontendError::kNack: return "backend refused the request (REPLY_ACK)";
    case FrontendError::kFeatures: return "backend lacks a required feature";
    case FrontendError::kInvalidArgument: return "invalid argument";
    case FrontendError::kNotConnected: return "not connected";
  }
  return "unknown frontend error";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string s = message.empty() ? std::string{} : message + ": ";
  s += error_name(code);
  if (err != 0) {
    s += ": ";
    s += std::strerror(err);
  }
  return s;
}

}  // namespace uvs::frontend
