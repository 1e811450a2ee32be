// SPDX-License-Identifier: MIT
// DpdkPortSpec: the checked settings of a dpdk port (a DPDK ethdev).
#pragma once

#include <string>

namespace uvs::config {

struct PortTypeInfo;

/// dpdk,id=,devargs=DEVARGS[,queues=N]: a DPDK ethdev, probed by the daemon's EAL (--dpdk-args).
/// Only in a build configured with -DUVS_WITH_DPDK=ON; others refuse the type by name.
struct DpdkPortSpec {
  std::string devargs;  ///< as rte_dev_probe takes it: a PCI address or "net_xxx0,key=value,..."
  unsigned queues = 1;  ///< RX/TX queue pairs
  bool operator==(const DpdkPortSpec&) const = default;
};

/// The dpdk type's registry entry (config/port_types.h).
extern const PortTypeInfo kDpdkPortType;

}  // namespace uvs::config
