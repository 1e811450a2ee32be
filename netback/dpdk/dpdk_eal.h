// SPDX-License-Identifier: MIT
// DPDK's Environment Abstraction Layer: initialised once per process, from the daemon's args.
#pragma once

#include <string>

#include "netback/common/netback_status.h"

namespace uvs::netback {

/// Initialises DPDK's EAL with `args` (whitespace-separated, as on a DPDK application's command
/// line before `--`, e.g. "--no-huge -m 512 --no-pci --file-prefix sw0"). Once per process: a
/// second call returns the first call's outcome. The calling thread's CPU affinity is restored
/// afterwards (EAL pins its caller to the main lcore, and every thread started later would
/// inherit that). Control path; returns kDevice with DPDK's reason on failure.
Status init_dpdk_eal(const std::string& args);

/// True once init_dpdk_eal() succeeded.
bool dpdk_eal_ready() noexcept;

}  // namespace uvs::netback
