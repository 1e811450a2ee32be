// SPDX-License-Identifier: MIT
// The dpdk port type in the daemon: EAL start-up from --dpdk-args, the port, its counters.
// Built only with -DUVS_WITH_DPDK=ON.
#pragma once

#include <memory>
#include <string>

#include "config/daemon_config.h"
#include "config/port_spec.h"
#include "eventloop/event_loop.h"
#include "port/port.h"
#include "tools/uvswitch/command_table.h"

namespace uvs::daemon {

/// Initialises DPDK's EAL from cfg.dpdk_args when the configuration has a dpdk port or
/// dpdk-args; otherwise does nothing. Returns false with `*error` saying why (EAL refused the
/// arguments). Call before any I/O thread starts.
bool start_dpdk(const config::DaemonConfig& cfg, std::string* error);

/// Creates and starts a dpdk port on `loop` (its thread). Null with `*error` naming the port
/// and devargs= or queues= when the device cannot be probed or started.
std::unique_ptr<port::Port> make_dpdk_port(const config::PortSpec& spec,
                                           const config::DpdkPortSpec& d, ev::EventLoop& loop,
                                           std::string* error);

/// The port's own and the device's (rte_eth_stats) counters. Loop thread only.
Json dpdk_stats_json(const port::Port& port);

}  // namespace uvs::daemon
