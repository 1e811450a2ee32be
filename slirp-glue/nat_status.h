// SPDX-License-Identifier: MIT
// NatStatus: the result of NAT start-up and forward changes, with a message naming the cause.
#pragma once

#include <string>
#include <utility>

namespace uvs::slirpglue {

enum class NatErrc {
  kOk,
  kBadOption,  ///< libslirp refused the configuration, or a value it cannot serve
  kOverlap,    ///< a forward overlaps one already in effect
  kBind,       ///< the host socket of a forward cannot be bound (port in use, no permission)
  kNotFound,   ///< hostfwd-del of a forward that does not exist
  kSocket,     ///< a socket the NAT itself needs could not be opened
  kState,      ///< started twice, or used before start()
};

/// Ok, or an error code with a human-readable message (already naming the port).
struct NatStatus {
  NatErrc code = NatErrc::kOk;
  std::string message;
  static NatStatus ok() { return {}; }
  static NatStatus fail(NatErrc c, std::string m) { return NatStatus{c, std::move(m)}; }
  explicit operator bool() const { return code == NatErrc::kOk; }
};

}  // namespace uvs::slirpglue
