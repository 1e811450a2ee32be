// SPDX-License-Identifier: MIT
// BridgeError names.
#include "switch/bridge_error.h"

namespace uvs::bridge {

const char* to_string(BridgeError e) {
  switch (e) {
    case BridgeError::kTooManyPorts: return "too-many-ports";
    case BridgeError::kBadThread: return "bad-thread";
    case BridgeError::kBadVlan: return "bad-vlan";
    case BridgeError::kAlreadyAttached: return "already-attached";
    case BridgeError::kDuplicateName: return "duplicate-name";
    case BridgeError::kNoSuchPort: return "no-such-port";
    case BridgeError::kTooManyCaptures: return "too-many-captures";
    case BridgeError::kBadLanes: return "bad-lanes";
    case BridgeError::kNotSupported: return "not-supported";
  }
  return "unknown";
}

}  // namespace uvs::bridge
