// SPDX-License-Identifier: MIT
// The tap port type's keys: reading, checking, canonical settings and --help text.
#include "config/tap_port_spec.h"

#include "config/fd_check.h"
#include "config/limits.h"
#include "config/path_check.h"
#include "config/port_key_readers.h"
#include "config/port_spec_parser.h"
#include "config/port_types.h"
#include "config/value_parser.h"

namespace uvs::config {
namespace {

constexpr KeyRule kTapKeys[] = {
    {.name = "ifname", .value = "NAME",
     .help = "the tap device's name."},
    {.name = "vnet-hdr", .value = "on|off",
     .help = "on (default): a virtio-net header on every frame (IFF_VNET_HDR)."},
    {.name = "offload", .value = "on|off",
     .help = "on (default, needs vnet-hdr): checksum and TSO/USO offloads (TUNSETOFFLOAD), "
              "so TCP crosses as frames of up to 64 KiB; off: plain frames (the switch "
              "segments for it)."},
    {.name = "mtu", .value = "N",
     .help = "the device's MTU (default: left as it is)."},
};

Result<PortBackend> read_tap(const KeyReader& r) {
  TapPortSpec s;
  auto parse_ifname = [](std::string_view v) -> Result<std::string> {
    UVS_CFG_RETURN_IF_ERROR(check_ifname(v));
    return std::string(v);
  };
  UVS_CFG_RETURN_IF_ERROR(r.read_required("ifname", &s.ifname, parse_ifname));
  UVS_CFG_RETURN_IF_ERROR(r.read("vnet-hdr", &s.vnet_hdr, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(r.read("offload", &s.offload, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(r.read("mtu", &s.mtu, uint_in(kMinMtu, kMaxMtu)));
  return PortBackend(std::move(s));
}

void write_tap(const PortBackend& b, PortSettings* out_list) {
  const auto& s = b.get<TapPortSpec>();
  PortSettings& out = *out_list;
  out.emplace_back("ifname", s.ifname);
  out.emplace_back("vnet-hdr", on_off(s.vnet_hdr));
  out.emplace_back("offload", on_off(s.offload));
  if (s.mtu) out.emplace_back("mtu", std::to_string(*s.mtu));
}

PortClaims claims_tap(const PortBackend& b) {
  const auto& s = b.get<TapPortSpec>();
  return PortClaims{.socket_path = {}, .resource = "ifname=" + s.ifname};
}

}  // namespace

const PortTypeInfo kTapPortType{
    .name = "tap",
    .keys = kTapKeys,
    .trunk = true,
    .read = read_tap,
    .write = write_tap,
    .claims = claims_tap,
    .usage = "tap,id=ID,ifname=NAME[,vnet-hdr=on|off][,offload=on|off][,mtu=N]",
    .summary = "a kernel tap device, created if missing.",
};

}  // namespace uvs::config
