// SPDX-License-Identifier: MIT
// The vhost-user port type's keys: reading, checking, canonical settings and --help text.
#include "config/vhost_user_port_spec.h"

#include "config/fd_check.h"
#include "config/limits.h"
#include "config/path_check.h"
#include "config/port_key_readers.h"
#include "config/port_spec_parser.h"
#include "config/port_types.h"
#include "config/value_parser.h"

namespace uvs::config {
namespace {

constexpr KeyRule kVhostUserKeys[] = {
    {.name = "path", .value = "SOCK",
     .help = "the unix socket (QEMU: -chardev socket,path=SOCK -netdev "
              "vhost-user,chardev=...)."},
    {.name = "fd", .value = "N",
     .help = "an inherited socket instead of path, connected (as libvirt passes it) or "
              "listening (not with path= or server=; only at start-up, port-add refuses it)."},
    {.name = "server", .value = "on|off",
     .help = "on (default): uvswitch listens on SOCK and QEMU connects; off: uvswitch "
              "connects to SOCK."},
    {.name = "queues", .value = "N",
     .help = "queue pairs, 1..64 (default 1)."},
    {.name = "mac", .value = "MAC",
     .help = "the guest's MAC, offered in the device config space (default: none offered)."},
    {.name = "mtu", .value = "N",
     .help = "the MTU offered to the guest (VIRTIO_NET_F_MTU; default: none offered)."},
    {.name = "mode", .value = "OCTAL",
     .help = "the listening socket's permissions (default: as bind() makes it, owner and "
              "root only), e.g. mode=0660."},
    {.name = "group", .value = "GROUP",
     .help = "the listening socket's group, e.g. group=libvirt-qemu."},
    {.name = "offload", .value = "on|off",
     .help = "on (default): offer checksum and TSO offloads (virtio-net CSUM, GUEST_CSUM, "
              "HOST_/GUEST_TSO4, TSO6, ECN); off: the guest sends and gets only plain frames."},
    {.name = "migration", .value = "on|off",
     .help = "on (default): offer VHOST_F_LOG_ALL so QEMU can live-migrate the guest; off: "
              "QEMU refuses to migrate it."},
};

Result<PortBackend> read_vhost_user(const KeyReader& r) {
  VhostUserPortSpec s;
  if (r.has("fd")) {
    // An inherited socket already is what path= and server= would make of a path.
    if (r.has("path")) {
      return Error::make(ConfigError::kConflict,
                         "fd and path exclude each other (fd=N: an inherited socket; path=: a "
                         "socket uvswitch opens)",
                         "fd");
    }
    if (r.has("server")) {
      return Error::make(ConfigError::kConflict,
                         "fd and server exclude each other (an inherited socket is connected "
                         "or listening already)",
                         "fd");
    }
    UVS_CFG_RETURN_IF_ERROR(r.read("fd", &s.fd, parse_socket_fd));
  } else {
    if (!r.has("path")) {
      return Error::make(ConfigError::kMissingKey,
                         "missing required key 'path' (unix socket) or 'fd' (inherited socket)",
                         "path");
    }
    UVS_CFG_RETURN_IF_ERROR(r.read("path", &s.path, parse_socket_path));
    UVS_CFG_RETURN_IF_ERROR(r.read("server", &s.server, parse_bool));
  }
  UVS_CFG_RETURN_IF_ERROR(r.read("queues", &s.queues, uint_in(1, kMaxQueuePairs)));
  UVS_CFG_RETURN_IF_ERROR(r.read("mac", &s.mac, parse_mac));
  UVS_CFG_RETURN_IF_ERROR(r.read("mtu", &s.mtu, uint_in(kMinMtu, kMaxMtu)));
  UVS_CFG_RETURN_IF_ERROR(read_access(
      r, &s, s.fd ? "an inherited fd" : (!s.server ? "a client (server=off)" : nullptr)));
  UVS_CFG_RETURN_IF_ERROR(r.read("offload", &s.offload, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(r.read("migration", &s.migration, parse_bool));
  return PortBackend(std::move(s));
}

void write_vhost_user(const PortBackend& b, PortSettings* out_list) {
  const auto& s = b.get<VhostUserPortSpec>();
  PortSettings& out = *out_list;
  if (s.fd) {
    out.emplace_back("fd", std::to_string(*s.fd));
  } else {
    out.emplace_back("path", s.path);
    out.emplace_back("server", on_off(s.server));
  }
  out.emplace_back("queues", std::to_string(s.queues));
  if (s.mac) out.emplace_back("mac", s.mac->to_string());
  if (s.mtu) out.emplace_back("mtu", std::to_string(*s.mtu));
  write_access(s, &out);
  out.emplace_back("offload", on_off(s.offload));
  out.emplace_back("migration", on_off(s.migration));
}

PortClaims claims_vhost_user(const PortBackend& b) {
  const auto& s = b.get<VhostUserPortSpec>();
  PortClaims c;
  c.socket_path = s.path;  // empty with fd=
  if (s.fd) c.resource = "fd=" + std::to_string(*s.fd);
  return c;
}

}  // namespace

const PortTypeInfo kVhostUserPortType{
    .name = "vhost-user",
    .keys = kVhostUserKeys,
    .trunk = true,
    .read = read_vhost_user,
    .write = write_vhost_user,
    .claims = claims_vhost_user,
    .usage = "vhost-user,id=ID,path=SOCK|fd=N[,server=on|off][,queues=N][,mac=MAC][,mtu=N]\n"
             "[,offload=on|off][,migration=on|off]",
    .summary = "a QEMU guest's virtio-net device: uvswitch is the vhost-user backend.",
};

}  // namespace uvs::config
