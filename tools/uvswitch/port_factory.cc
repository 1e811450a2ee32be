// SPDX-License-Identifier: MIT
// Port factory: one case per port type; a parsed type that no backend runs says so by name.
#include "tools/uvswitch/port_factory.h"

#include <cstdio>

#include "config/limits.h"
#include "netback/host/dgram_port.h"
#include "netback/host/stream_port.h"
#include "netback/host/tap_port.h"
#include "netback/common/unix_socket.h"
#include "netback/vhost/vhost_user_net_port.h"
#include "netback/host/vxlan_port.h"
#include "tools/uvswitch/nat_commands.h"
#ifdef UVS_WITH_DPDK
#include "tools/uvswitch/dpdk_port_factory.h"
#endif

namespace uvs::daemon {
namespace {

// The config parser refuses queues= above its limit by name, before anything starts; that limit
// must be exactly what the backend serves, or the error would come only at start-up.
static_assert(config::kMaxQueuePairs == netback::kMaxQueuePairs,
              "config::kMaxQueuePairs must equal the vhost-user backend's queue pair limit");

// Every netback port has the same start() contract; this turns its Status into the daemon's
// error text (the Status already names the port).
template <typename P>
std::unique_ptr<port::Port> started(std::unique_ptr<P> port, std::string* error) {
  netback::Status st = port->start();
  if (!st) {
    *error = st.to_string();
    return nullptr;
  }
  return port;
}

std::unique_ptr<port::Port> make_tap(const config::PortSpec& spec, const config::TapPortSpec& t,
                                     ev::EventLoop& loop, std::string* error) {
  netback::TapPortOptions o;
  o.name = spec.id;
  o.ifname = t.ifname;
  o.vnet_hdr = t.vnet_hdr;
  o.offload = t.offload;
  if (t.mtu) o.mtu = *t.mtu;
  return started(std::make_unique<netback::TapPort>(loop, std::move(o)), error);
}

std::unique_ptr<port::Port> make_stream(const config::PortSpec& spec,
                                        const config::StreamPortSpec& s, ev::EventLoop& loop,
                                        std::string* error) {
  netback::StreamPortOptions o;
  o.name = spec.id;
  o.path = s.path;
  if (s.addr) o.addr = s.addr->to_string();
  o.role = s.server ? netback::StreamRole::kServer : netback::StreamRole::kClient;
  if (s.mode) o.access.mode = *s.mode;
  if (s.group) o.access.group = s.group->gid;
  return started(std::make_unique<netback::StreamPort>(loop, std::move(o)), error);
}

std::unique_ptr<port::Port> make_dgram(const config::PortSpec& spec,
                                       const config::DgramPortSpec& d, ev::EventLoop& loop,
                                       std::string* error) {
  netback::DgramPortOptions o;
  o.name = spec.id;
  o.local = d.local.to_string();
  o.remote = d.remote.to_string();
  return started(std::make_unique<netback::DgramPort>(loop, std::move(o)), error);
}

std::unique_ptr<port::Port> make_vxlan(const config::PortSpec& spec,
                                       const config::VxlanPortSpec& x, ev::EventLoop& loop,
                                       std::string* error) {
  netback::VxlanPortOptions o;
  o.name = spec.id;
  o.vni = x.vni;
  o.local = x.local_text();
  for (const config::IpAddr& r : x.remotes) o.remotes.push_back(r.to_string());
  o.dstport = x.dstport;
  if (x.mtu) o.mtu = *x.mtu;
  return started(std::make_unique<netback::VxlanPort>(loop, std::move(o)), error);
}

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

std::unique_ptr<port::Port> make_vhost_user(const config::PortSpec& spec,
                                            const config::VhostUserPortSpec& vu,
                                            ev::EventLoop& loop, std::string* error) {
  netback::VhostUserNetOptions o;
  o.name = spec.id;
  o.socket_path = vu.path;
  o.role = vu.server ? netback::SocketRole::kServer : netback::SocketRole::kClient;
  if (vu.fd) {
    // libvirt passes a connected socket; a launcher may also pass a listener (SO_ACCEPTCONN).
    int listening = netback::socket_is_listening(*vu.fd);
    if (listening < 0) {
      *error = "port " + spec.id + ": fd=" + std::to_string(*vu.fd) + " is no longer a socket";
      return nullptr;
    }
    o.role = listening ? netback::SocketRole::kListenFd : netback::SocketRole::kFd;
    o.fd = *vu.fd;
  }
  o.queue_pairs = vu.queues;
  if (vu.mode) o.access.mode = *vu.mode;
  if (vu.group) o.access.group = vu.group->gid;
  if (vu.mtu) o.mtu = static_cast<uint16_t>(*vu.mtu);
  o.offloads = vu.offload;
  o.migration = vu.migration;
  if (vu.mac) {
    o.has_mac = true;
    o.mac = vu.mac->bytes;
  }
  return started(std::make_unique<netback::VhostUserNetPort>(loop, std::move(o)), error);
}

// Drops by malformed-header reason, keyed by reason name.
Json bad_hdr_json(const netback::NetQueueStats& q) {
  Json out = Json::object();
  out["total"] = q.in_drop_bad_hdr_total();
  for (uint32_t i = 1; i < netback::kBadHdrReasons; ++i) {
    out[netback::bad_hdr_name(static_cast<netback::BadHdr>(i))] = q.in_drop_bad_hdr[i];
  }
  return out;
}

Json queue_json(const netback::NetQueueStats& q) {
  return Json{{"in-frames", q.in_frames},
              {"in-bytes", q.in_bytes},
              {"out-frames", q.out_frames},
              {"out-bytes", q.out_bytes},
              {"in-drop-bad-chain", q.in_drop_bad_chain},
              {"in-drop-too-short", q.in_drop_too_short},
              {"in-drop-too-big", q.in_drop_too_big},
              {"out-drop-no-buffers", q.out_drop_no_buffers},
              {"out-drop-too-big", q.out_drop_too_big},
              {"out-drop-bad-chain", q.out_drop_bad_chain},
              {"kicks", q.kicks},
              {"calls", q.calls},
              {"in-csum", q.in_csum},
              {"in-tso4", q.in_tso4},
              {"in-tso6", q.in_tso6},
              {"in-ecn", q.in_ecn},
              {"out-csum", q.out_csum},
              {"out-data-valid", q.out_data_valid},
              {"out-tso4", q.out_tso4},
              {"out-tso6", q.out_tso6},
              {"out-ecn", q.out_ecn},
              {"out-drop-offload", q.out_drop_offload},
              {"in-drop-bad-hdr", bad_hdr_json(q)}};
}

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

// The offload features the frontend acked, by virtio-net name (virtio 1.2 §5.1.3), and the acked
// feature word itself, to compare with a Linux guest's /sys/bus/virtio/devices/*/features.
Json offloads_json(uint64_t acked) {
  namespace f = netback::virtio::feature;
  static constexpr struct {
    uint32_t bit;
    const char* name;
  } kNames[] = {{f::kNetCsum, "csum"},           {f::kNetGuestCsum, "guest-csum"},
                {f::kNetHostTso4, "host-tso4"},  {f::kNetHostTso6, "host-tso6"},
                {f::kNetHostEcn, "host-ecn"},    {f::kNetGuestTso4, "guest-tso4"},
                {f::kNetGuestTso6, "guest-tso6"}, {f::kNetGuestEcn, "guest-ecn"},
                {f::kNetMrgRxbuf, "mrg-rxbuf"}};
  Json names = Json::array();
  for (const auto& n : kNames) {
    if ((acked >> n.bit) & 1) names.push_back(n.name);
  }
  char hex[19];
  std::snprintf(hex, sizeof hex, "0x%016llx", static_cast<unsigned long long>(acked));
  return Json{{"negotiated", names}, {"features", hex}};
}

}  // namespace

std::unique_ptr<port::Port> make_port(const config::PortSpec& spec, ev::EventLoop& loop,
                                      std::string* error) {
  if (const auto* vu = std::get_if<config::VhostUserPortSpec>(&spec.backend)) {
    return make_vhost_user(spec, *vu, loop, error);
  }
  if (const auto* t = std::get_if<config::TapPortSpec>(&spec.backend)) {
    return make_tap(spec, *t, loop, error);
  }
  if (const auto* s = std::get_if<config::StreamPortSpec>(&spec.backend)) {
    return make_stream(spec, *s, loop, error);
  }
  if (const auto* d = std::get_if<config::DgramPortSpec>(&spec.backend)) {
    return make_dgram(spec, *d, loop, error);
  }
  if (const auto* n = std::get_if<config::NatPortSpec>(&spec.backend)) {
    return make_nat_port(spec, *n, loop, error);
  }
  if (const auto* x = std::get_if<config::VxlanPortSpec>(&spec.backend)) {
    return make_vxlan(spec, *x, loop, error);
  }
#ifdef UVS_WITH_DPDK
  if (const auto* d = std::get_if<config::DpdkPortSpec>(&spec.backend)) {
    return make_dpdk_port(spec, *d, loop, error);
  }
#endif
  *error = "port " + spec.id + ": type '" + config::port_type_name(spec.type()) +
           "' is parsed and checked but cannot run yet";
  return nullptr;
}

Json backend_stats_json(const config::PortSpec& spec, const port::Port& port) {
  if (spec.type() == config::PortType::kVhostUser) {
    const auto& vu = static_cast<const netback::VhostUserNetPort&>(port);
    netback::VhostUserNetStats s = vu.stats();
    Json queues = Json::array();
    for (const auto& q : s.queues) queues.push_back(queue_json(q));
    return Json{{"connected", s.connected},
                {"offloads", offloads_json(vu.device().acked_features())},
                {"connections", s.connections},
                {"disconnects", s.disconnects},
                {"protocol-errors", s.protocol_errors},
                {"rejected-requests", s.rejected_requests},
                {"announces", s.announces},
                {"out-drop-not-ready", s.out_drop_not_ready},
                {"total", queue_json(s.total)},
                {"queues", queues}};
  }
  if (spec.type() == config::PortType::kTap) {
    const auto& tap = static_cast<const netback::TapPort&>(port);
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
  if (spec.type() == config::PortType::kStream) {
    const auto& sp = static_cast<const netback::StreamPort&>(port);
    netback::StreamPortStats s = sp.stats();
    return Json{{"connected", s.connected},
                {"local-address", sp.local_address()},
                {"connections", s.connections},
                {"disconnects", s.disconnects},
                {"protocol-errors", s.protocol_errors},
                {"connect-timeouts", s.connect_timeouts},
                {"in-frames", s.in_frames},
                {"in-bytes", s.in_bytes},
                {"in-drop-too-short", s.in_drop_too_short},
                {"out-frames", s.out_frames},
                {"out-bytes", s.out_bytes},
                {"out-drop-not-connected", s.out_drop_not_connected},
                {"out-drop-busy", s.out_drop_busy},
                {"out-drop-bad-frame", s.out_drop_bad_frame},
                {"out-partial-writes", s.out_partial_writes},
                {"pending-bytes", s.pending_bytes}};
  }
  if (spec.type() == config::PortType::kDgram) {
    netback::DgramPortStats s = static_cast<const netback::DgramPort&>(port).stats();
    return Json{{"in-frames", s.in_frames},
                {"in-bytes", s.in_bytes},
                {"in-drop-too-short", s.in_drop_too_short},
                {"in-drop-too-big", s.in_drop_too_big},
                {"in-drop-foreign", s.in_drop_foreign},
                {"in-errors", s.in_errors},
                {"out-frames", s.out_frames},
                {"out-bytes", s.out_bytes},
                {"out-drop-full", s.out_drop_full},
                {"out-drop-too-big", s.out_drop_too_big},
                {"out-drop-bad-frame", s.out_drop_bad_frame},
                {"out-drop-error", s.out_drop_error}};
  }
  if (spec.type() == config::PortType::kNat) return nat_stats_json(port);
  if (spec.type() == config::PortType::kVxlan) {
    return vxlan_json(static_cast<const netback::VxlanPort&>(port));
  }
#ifdef UVS_WITH_DPDK
  if (spec.type() == config::PortType::kDpdk) return dpdk_stats_json(port);
#endif
  return Json::object();
}

}  // namespace uvs::daemon
