// SPDX-License-Identifier: MIT
// The stream port type's keys: reading, checking, canonical settings and --help text.
#include "config/stream_port_spec.h"

#include "config/fd_check.h"
#include "config/limits.h"
#include "config/path_check.h"
#include "config/port_key_readers.h"
#include "config/port_spec_parser.h"
#include "config/port_types.h"
#include "config/value_parser.h"

namespace uvs::config {
namespace {

constexpr KeyRule kStreamKeys[] = {
    {.name = "path", .value = "SOCK",
     .help = "a unix socket."},
    {.name = "addr", .value = "IP:PORT",
     .help = "a TCP address instead of path."},
    {.name = "server", .value = "on|off",
     .help = "on (default): uvswitch listens; off: it connects."},
    {.name = "mode", .value = "OCTAL",
     .help = "a unix server socket's permissions (default: as bind() makes it, owner and "
              "root only), e.g. mode=0660."},
    {.name = "group", .value = "GROUP",
     .help = "a unix server socket's group, e.g. group=libvirt-qemu."},
};

Result<PortBackend> read_stream(const KeyReader& r) {
  StreamPortSpec s;
  if (r.has("path") && r.has("addr")) {
    return Error::make(ConfigError::kConflict,
                       "path and addr exclude each other (path=: unix socket, addr=: TCP)", "addr");
  }
  if (!r.has("path") && !r.has("addr")) {
    return Error::make(ConfigError::kMissingKey,
                       "missing required key 'path' (unix socket) or 'addr' (TCP HOST:PORT)",
                       "path");
  }
  UVS_CFG_RETURN_IF_ERROR(r.read("path", &s.path, parse_socket_path));
  UVS_CFG_RETURN_IF_ERROR(r.read("addr", &s.addr, parse_socket_addr));
  UVS_CFG_RETURN_IF_ERROR(r.read("server", &s.server, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(read_access(
      r, &s, s.addr ? "TCP (addr=)" : (!s.server ? "a client (server=off)" : nullptr)));
  return PortBackend(std::move(s));
}

void write_stream(const PortBackend& b, PortSettings* out_list) {
  const auto& s = b.get<StreamPortSpec>();
  PortSettings& out = *out_list;
  if (s.addr) {
    out.emplace_back("addr", s.addr->to_string());
  } else {
    out.emplace_back("path", s.path);
  }
  out.emplace_back("server", on_off(s.server));
  write_access(s, &out);
}

PortClaims claims_stream(const PortBackend& b) {
  const auto& s = b.get<StreamPortSpec>();
  PortClaims c;
  c.socket_path = s.path;  // empty with addr=
  if (s.addr && s.server) c.resource = "addr=" + s.addr->to_string() + " (listening)";
  return c;
}

}  // namespace

const PortTypeInfo kStreamPortType{
    .name = "stream",
    .keys = kStreamKeys,
    .trunk = true,
    .read = read_stream,
    .write = write_stream,
    .claims = claims_stream,
    .usage = "stream,id=ID,path=SOCK|addr=IP:PORT[,server=on|off]",
    .summary = "frames over a byte stream, each after its 32-bit length (QEMU -netdev stream "
               "framing).",
};

}  // namespace uvs::config
