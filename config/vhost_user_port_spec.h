// SPDX-License-Identifier: MIT
// VhostUserPortSpec: the checked settings of a vhost-user port (vhost-user-net backend).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/file_access.h"
#include "config/net_types.h"

namespace uvs::config {

struct PortTypeInfo;

/// vhost-user,id=,path=|fd=[,server=on|off][,queues=N][,threads=LIST|auto][,mac=][,mtu=N]. The switch is the
/// vhost-user backend; server=on (default) means it listens on `path` and QEMU connects as the
/// frontend. fd=N instead of path: an inherited socket (connected, as libvirt passes it, or
/// listening), exclusive with path and server.
struct VhostUserPortSpec {
  std::string path;             ///< empty when `fd` is set
  std::optional<int> fd;        ///< inherited socket; only at start-up, never over port-add
  bool server = true;
  unsigned queues = 1;          ///< queue pairs
  /// I/O threads the queue pairs run on (pair p on threads[p % size]), the first also serving
  /// the socket; at most `queues`, each once. Empty: every pair on the port's one thread, or,
  /// with `threads_auto`, on threads the daemon picks when it creates the port.
  std::vector<unsigned> threads;
  /// threads=auto: the pairs spread over min(queues, I/O threads) threads, the least loaded
  /// first (Bridge::pick_threads); `threads` stays empty.
  bool threads_auto = false;
  std::optional<MacAddr> mac;   ///< offered in the device config space when set
  std::optional<unsigned> mtu;  ///< offered as VIRTIO_NET_F_MTU when set
  std::optional<unsigned> mode;     ///< server socket's permissions (octal `mode=`)
  std::optional<GroupRef> group;    ///< server socket's group (`group=`)
  bool offload = true;          ///< offer checksum and TSO offloads (CSUM, GUEST_/HOST_TSO4/6, ECN)
  bool migration = true;        ///< offer VHOST_F_LOG_ALL, so QEMU may live-migrate the guest
  bool operator==(const VhostUserPortSpec&) const = default;
};

/// The vhost-user type's registry entry (config/port_types.h).
extern const PortTypeInfo kVhostUserPortType;

}  // namespace uvs::config
