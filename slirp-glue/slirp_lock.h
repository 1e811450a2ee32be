// SPDX-License-Identifier: MIT
// slirp_lock(): the process-wide lock around libslirp entry points.
#pragma once

#include <mutex>

namespace uvs::slirpglue {

/// libslirp 4.7 keeps some process-global state — the cached host resolver address in
/// get_dns_addr (static variables in slirp.c) and its debug flags — so two NAT ports on two
/// loop threads must not run inside libslirp at once. Every libslirp call holds this lock.
/// It is recursive because libslirp's output callback can reach the switch, which may hand
/// frames to another NAT port on the same thread (nested slirp_input). Uncontended with one NAT
/// port, so the single-port data path pays an uncontended lock per burst, not per frame.
inline std::recursive_mutex& slirp_lock() {
  static std::recursive_mutex m;
  return m;
}

}  // namespace uvs::slirpglue
