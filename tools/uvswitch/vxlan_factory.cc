// SPDX-License-Identifier: MIT
// The vxlan port type in the daemon: options from the config, and per-VTEP counters.
#include "tools/uvswitch/port_factory.h"

#include <cstdio>

#include "config/vxlan_port_spec.h"
#include "netback/host/vxlan_port.h"
#include "tools/uvswitch/netback_factory_util.h"

namespace uvs::daemon {
namespace {

Json vxlan_json(const netback::VxlanPort& p) {
  const netback::VxlanPortStats& s = p.stats();
  Json vteps = Json::array();
  for (size_t i = 0; i < p.remote_names().size(); ++i) {
    const netback::VtepStats& v = p.vtep_stats(i);
    vteps.push_back(Json{{"address", p.remote_names()[i]},
                         {"in-frames", v.in_frames},
                         {"in-bytes", v.in_bytes},
                         {"out-frames", v.out_frames},
                         {"out-bytes", v.out_bytes},
                         {"out-flooded", v.out_flooded},
                         {"out-drop-full", v.out_drop_full},
                         {"out-drop-too-big", v.out_drop_too_big},
                         {"out-drop-error", v.out_drop_error}});
  }
  Json src = Json::array();
  for (uint16_t sp : p.source_ports()) src.push_back(sp);
  return Json{{"local-address", p.local_address()},
              {"mtu", p.mtu()},
              {"source-ports", src},
              {"learned-macs", p.learned_macs()},
              {"in-frames", s.in_frames},
              {"in-bytes", s.in_bytes},
              {"in-drop-no-sink", s.in_drop_no_sink},
              {"in-drop-foreign", s.in_drop_foreign},
              {"in-drop-too-short", s.in_drop_too_short},
              {"in-drop-too-big", s.in_drop_too_big},
              {"in-drop-no-vni", s.in_drop_no_vni},
              {"in-drop-wrong-vni", s.in_drop_wrong_vni},
              {"in-errors", s.in_errors},
              {"out-frames", s.out_frames},
              {"out-unicast", s.out_unicast},
              {"out-flooded", s.out_flooded},
              {"out-drop-mtu", s.out_drop_mtu},
              {"out-drop-bad-frame", s.out_drop_bad_frame},
              {"vteps", vteps}};
}

RunningPort make_vxlan(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error) {
  const auto& x = spec.backend.get<config::VxlanPortSpec>();
  netback::VxlanPortOptions o;
  o.name = spec.id;
  o.vni = x.vni;
  o.local = x.local_text();
  for (const config::IpAddr& r : x.remotes) o.remotes.push_back(r.to_string());
  o.dstport = x.dstport;
  if (x.mtu) o.mtu = *x.mtu;
  return started(std::make_unique<netback::VxlanPort>(loop, std::move(o)), error, vxlan_json);
}

}  // namespace

extern const PortFactory kVxlanFactory{&config::kVxlanPortType, make_vxlan};

}  // namespace uvs::daemon
