// SPDX-License-Identifier: MIT
// The dpdk port type's keys: reading, checking, canonical settings and --help text. The type is
// known to every build, so a build without DPDK names it in its refusal.
#include "config/dpdk_port_spec.h"

#include "config/limits.h"
#include "config/port_key_readers.h"
#include "config/port_types.h"
#include "config/value_parser.h"

namespace uvs::config {
namespace {

constexpr KeyRule kDpdkKeys[] = {
    {.name = "devargs", .value = "DEVARGS",
     .help = "a PCI address or a vdev with its arguments, commas doubled (e.g. "
              "net_af_packet0,,iface=eth0 or net_memif0,,role=server,,socket=/run/m.sock)."},
    {.name = "queues", .value = "N",
     .help = "RX/TX queue pairs, 1..64 (default 1; RSS spreads RX)."},
};

[[maybe_unused]] Result<std::string> parse_devargs(std::string_view text) {
  // rte_dev_probe takes NAME[,KEY=VALUE...]; the name is what DPDK registers the device as.
  const std::string_view name = text.substr(0, text.find(','));
  if (name.empty()) {
    return Error::make(ConfigError::kBadValue,
                       quoted(text) + " has no device name (a PCI address like 0000:01:00.0, or a "
                                      "vdev like net_af_packet0,iface=eth0)");
  }
  for (char c : name) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\') {
      return Error::make(ConfigError::kBadValue,
                         quoted(text) + ": device name " + quoted(name) + " is not a DPDK name");
    }
  }
  return std::string(text);
}

Result<PortBackend> read_dpdk(const KeyReader& r) {
#ifdef UVS_WITH_DPDK
  DpdkPortSpec s;
  UVS_CFG_RETURN_IF_ERROR(r.read_required("devargs", &s.devargs, parse_devargs));
  UVS_CFG_RETURN_IF_ERROR(r.read("queues", &s.queues, uint_in(1, kMaxDpdkQueues)));
  return PortBackend(std::move(s));
#else
  (void)r;
  return Error::make(ConfigError::kBadValue,
                     "dpdk: this uvswitch was built without DPDK (configure with "
                     "-DUVS_WITH_DPDK=ON)",
                     "type");
#endif
}

void write_dpdk(const PortBackend& b, PortSettings* out) {
  const auto& s = b.get<DpdkPortSpec>();
  out->emplace_back("devargs", s.devargs);
  out->emplace_back("queues", std::to_string(s.queues));
}

}  // namespace

const PortTypeInfo kDpdkPortType{
    .name = "dpdk",
    .keys = kDpdkKeys,
    .trunk = true,
    .read = read_dpdk,
    .write = write_dpdk,
    .usage = "dpdk,id=ID,devargs=DEVARGS[,queues=N]",
    .summary = "a DPDK ethdev (only in builds configured with UVS_WITH_DPDK on). RX is polled by "
               "the port's thread, asleep on RX interrupts where the driver has them and a queue "
               "count, else re-checked at least every 1 ms when idle. Plain frames: no offloads. "
               "The EAL starts once, with --dpdk-args.",
};

}  // namespace uvs::config
