// SPDX-License-Identifier: MIT
// The dpdk port type in the daemon: EAL start-up from --dpdk-args. Its registry entry,
// kDpdkFactory, is in dpdk_port_factory.cc (built with -DUVS_WITH_DPDK=ON) or
// dpdk_unavailable_factory.cc (without).
#pragma once

#include <memory>
#include <string>

#include "config/daemon_config.h"
#include "config/port_spec.h"

namespace uvs::daemon {

/// Initialises DPDK's EAL from cfg.dpdk_args when the configuration has a dpdk port or
/// dpdk-args; otherwise does nothing. Returns false with `*error` saying why (EAL refused the
/// arguments). Call before any I/O thread starts.
bool start_dpdk(const config::DaemonConfig& cfg, std::string* error);

}  // namespace uvs::daemon
