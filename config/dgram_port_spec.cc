// SPDX-License-Identifier: MIT
// The dgram port type's keys: reading, checking, canonical settings and --help text.
#include "config/dgram_port_spec.h"

#include "config/fd_check.h"
#include "config/limits.h"
#include "config/path_check.h"
#include "config/port_key_readers.h"
#include "config/port_spec_parser.h"
#include "config/port_types.h"
#include "config/value_parser.h"

namespace uvs::config {
namespace {

constexpr KeyRule kDgramKeys[] = {
    {.name = "local", .value = "IP:PORT",
     .help = "the address uvswitch binds."},
    {.name = "remote", .value = "IP:PORT",
     .help = "the peer; only its datagrams are accepted, others are counted "
              "(in-drop-foreign)."},
};

Result<PortBackend> read_dgram(const KeyReader& r) {
  DgramPortSpec s;
  UVS_CFG_RETURN_IF_ERROR(r.read_required("local", &s.local, parse_socket_addr));
  UVS_CFG_RETURN_IF_ERROR(r.read_required("remote", &s.remote, parse_socket_addr));
  if (s.local.ip.family != s.remote.ip.family) {
    return Error::make(ConfigError::kConflict,
                       "local=" + s.local.to_string() + " and remote=" + s.remote.to_string() +
                           " are different address families",
                       "remote");
  }
  return PortBackend(std::move(s));
}

void write_dgram(const PortBackend& b, PortSettings* out_list) {
  const auto& s = b.get<DgramPortSpec>();
  PortSettings& out = *out_list;
  out.emplace_back("local", s.local.to_string());
  out.emplace_back("remote", s.remote.to_string());
}

PortClaims claims_dgram(const PortBackend& b) {
  const auto& s = b.get<DgramPortSpec>();
  return PortClaims{.socket_path = {}, .resource = "local=" + s.local.to_string()};
}

}  // namespace

const PortTypeInfo kDgramPortType{
    .name = "dgram",
    .keys = kDgramKeys,
    .trunk = true,
    .read = read_dgram,
    .write = write_dgram,
    .claims = claims_dgram,
    .usage = "dgram,id=ID,local=IP:PORT,remote=IP:PORT",
    .summary = "one frame per UDP datagram (QEMU -netdev dgram).",
};

}  // namespace uvs::config
