// SPDX-License-Identifier: MIT
// The dpdk port type in the daemon (built with -DUVS_WITH_DPDK=ON): EAL start-up, the DpdkPort
// factory and its stats JSON.
#include "config/dpdk_port_spec.h"
#include "config/limits.h"
#include "netback/dpdk/dpdk_eal.h"
#include "netback/dpdk/dpdk_port.h"
#include "tools/uvswitch/port_factory.h"

namespace uvs::daemon {
namespace {

// The EAL starts once, before the I/O threads, when the configuration has a dpdk port or
// --dpdk-args; otherwise DPDK stays untouched.
bool start_dpdk(const config::DaemonConfig& cfg, std::string* error) {
  bool wanted = !cfg.dpdk_args.empty();
  for (const config::PortSpec& p : cfg.ports) wanted |= p.type == &config::kDpdkPortType;
  if (!wanted) return true;
  netback::Status st = netback::init_dpdk_eal(cfg.dpdk_args);
  if (!st) *error = st.message;
  return st.ok();
}

Json dpdk_stats_json(const netback::DpdkPort& p);

RunningPort make_dpdk_port(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error) {
  const auto& d = spec.backend.get<config::DpdkPortSpec>();
  if (!netback::dpdk_eal_ready()) {
    *error = "port " + spec.id +
             ": DPDK is not initialised (start uvswitch with --dpdk-args, or with a dpdk port)";
    return {};
  }
  netback::DpdkPortOptions o;
  o.name = spec.id;
  o.devargs = d.devargs;
  o.queues = static_cast<uint16_t>(d.queues);
  auto p = std::make_unique<netback::DpdkPort>(loop, std::move(o));
  netback::Status st = p->start();
  if (!st) {
    *error = "port " + st.message;
    return {};
  }
  const netback::DpdkPort* typed = p.get();
  RunningPort rp;
  rp.details = [typed] { return dpdk_stats_json(*typed); };
  rp.port = std::move(p);
  return rp;
}

Json dpdk_stats_json(const netback::DpdkPort& p) {
  netback::DpdkPortStats s = p.stats();
  return Json{{"driver", p.driver()},
              {"dpdk-port-id", p.port_id()},
              {"rx-interrupts", s.rx_interrupts},
              {"in-frames", s.in_frames},
              {"in-bytes", s.in_bytes},
              {"in-drop-no-sink", s.in_drop_no_sink},
              {"in-drop-bad-frame", s.in_drop_bad_frame},
              {"out-frames", s.out_frames},
              {"out-bytes", s.out_bytes},
              {"out-drop-full", s.out_drop_full},
              {"out-drop-no-mbuf", s.out_drop_no_mbuf},
              {"out-drop-too-big", s.out_drop_too_big},
              {"out-drop-not-ready", s.out_drop_not_ready},
              {"device", Json{{"rx-packets", s.dev_ipackets},
                              {"tx-packets", s.dev_opackets},
                              {"rx-bytes", s.dev_ibytes},
                              {"tx-bytes", s.dev_obytes},
                              {"rx-missed", s.dev_imissed},
                              {"rx-errors", s.dev_ierrors},
                              {"tx-errors", s.dev_oerrors},
                              {"rx-nombuf", s.dev_rx_nombuf}}}};
}

}  // namespace

extern const PortFactory kDpdkFactory{
    .type = &config::kDpdkPortType, .make = make_dpdk_port, .start_process = start_dpdk};

}  // namespace uvs::daemon
