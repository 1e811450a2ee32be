// SPDX-License-Identifier: MIT
// The tap port type in the daemon: options from the config, and its counters.
#include "tools/uvswitch/port_factory.h"

#include <cstdio>

#include "config/tap_port_spec.h"
#include "netback/host/tap_port.h"
#include "tools/uvswitch/netback_factory_util.h"

namespace uvs::daemon {
namespace {

// Frames dropped for a malformed virtio-net header from the kernel, keyed by reason name.
Json tap_bad_hdr_json(const netback::TapPortStats& s) {
  Json out = Json::object();
  out["total"] = s.in_drop_bad_hdr_total();
  for (uint32_t i = 1; i < netback::kBadHdrReasons; ++i) {
    out[netback::bad_hdr_name(static_cast<netback::BadHdr>(i))] = s.in_drop_bad_hdr[i];
  }
  return out;
}

// The TUNSETOFFLOAD flags the kernel accepted, by name (include/uapi/linux/if_tun.h TUN_F_*),
// and as the number, to compare with what ethtool -k shows on the interface.
Json tap_offloads_json(unsigned flags) {
  static constexpr struct {
    unsigned bit;
    const char* name;
  } kNames[] = {{0x01, "csum"}, {0x02, "tso4"}, {0x04, "tso6"},
                {0x08, "tso-ecn"}, {0x20, "uso4"}, {0x40, "uso6"}};
  Json names = Json::array();
  for (const auto& n : kNames) {
    if (flags & n.bit) names.push_back(n.name);
  }
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", flags);
  return Json{{"negotiated", names}, {"tun-flags", hex}};
}

Json tap_json(const netback::TapPort& tap) {
  netback::TapPortStats s = tap.stats();
  return Json{{"ifname", tap.ifname()},
              {"attached", s.attached},
              {"created", s.created},
              {"vnet-hdr", tap.vnet_hdr_len() != 0},
              {"offloads", tap_offloads_json(tap.tun_offloads())},
              {"in-frames", s.in_frames},
              {"in-bytes", s.in_bytes},
              {"in-drop-too-short", s.in_drop_too_short},
              {"in-csum", s.in_csum},
              {"in-data-valid", s.in_data_valid},
              {"in-tso4", s.in_tso4},
              {"in-tso6", s.in_tso6},
              {"in-uso", s.in_uso},
              {"in-ecn", s.in_ecn},
              {"in-drop-bad-hdr", tap_bad_hdr_json(s)},
              {"out-frames", s.out_frames},
              {"out-bytes", s.out_bytes},
              {"out-csum", s.out_csum},
              {"out-data-valid", s.out_data_valid},
              {"out-tso4", s.out_tso4},
              {"out-tso6", s.out_tso6},
              {"out-uso", s.out_uso},
              {"out-ecn", s.out_ecn},
              {"out-drop-offload", s.out_drop_offload},
              {"out-drop-full", s.out_drop_full},
              {"out-drop-link-down", s.out_drop_link_down},
              {"out-drop-not-ready", s.out_drop_not_ready},
              {"out-drop-bad-frame", s.out_drop_bad_frame},
              {"out-errors", s.out_errors}};
}

RunningPort make_tap(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error) {
  const auto& t = spec.backend.get<config::TapPortSpec>();
  netback::TapPortOptions o;
  o.name = spec.id;
  o.ifname = t.ifname;
  o.vnet_hdr = t.vnet_hdr;
  o.offload = t.offload;
  if (t.mtu) o.mtu = *t.mtu;
  return started(std::make_unique<netback::TapPort>(loop, std::move(o)), error, tap_json);
}

}  // namespace

extern const PortFactory kTapFactory{&config::kTapPortType, make_tap};

}  // namespace uvs::daemon
