// SPDX-License-Identifier: MIT
// What the netback port factories share: start() and the RunningPort around a started port.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "netback/common/netback_status.h"
#include "tools/uvswitch/port_factory.h"

namespace uvs::daemon {

/// Starts `port` (every netback port has the same start() contract) and wraps it with
/// `details`, a function of the concrete port returning its JSON. A null port with `*error`
/// (the Status, which names the port) when start() fails.
template <typename P, typename D>
RunningPort started(std::unique_ptr<P> port, std::string* error, D details) {
  netback::Status st = port->start();
  if (!st) {
    *error = st.to_string();
    return {};
  }
  const P* typed = port.get();
  RunningPort rp;
  rp.details = [typed, details = std::move(details)] { return details(*typed); };
  rp.port = std::move(port);
  return rp;
}

}  // namespace uvs::daemon
