// SPDX-License-Identifier: MIT
// Port factory: one case per port type; types whose issue has not landed say so by name.
#include "tools/uvswitch/port_factory.h"

#include "netback/vhost_user_net_port.h"

namespace uvs::daemon {
namespace {

std::unique_ptr<port::Port> make_vhost_user(const config::PortSpec& spec,
                                            const config::VhostUserPortSpec& vu,
                                            ev::EventLoop& loop, std::string* error) {
  netback::VhostUserNetOptions o;
  o.name = spec.id;
  o.socket_path = vu.path;
  o.role = vu.server ? netback::SocketRole::kServer : netback::SocketRole::kClient;
  o.queue_pairs = vu.queues;
  if (vu.mtu) o.mtu = static_cast<uint16_t>(*vu.mtu);
  if (vu.mac) {
    o.has_mac = true;
    o.mac = vu.mac->bytes;
  }
  auto port = std::make_unique<netback::VhostUserNetPort>(loop, std::move(o));
  netback::Status st = port->start();
  if (!st) {
    *error = st.to_string();  // already names the port
    return nullptr;
  }
  return port;
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
              {"calls", q.calls}};
}

}  // namespace

std::unique_ptr<port::Port> make_port(const config::PortSpec& spec, ev::EventLoop& loop,
                                      std::string* error) {
  if (const auto* vu = std::get_if<config::VhostUserPortSpec>(&spec.backend)) {
    return make_vhost_user(spec, *vu, loop, error);
  }
  *error = "port " + spec.id + ": type '" + config::port_type_name(spec.type()) +
           "' is parsed and checked but cannot run yet (only vhost-user ports forward so far)";
  return nullptr;
}

Json backend_stats_json(const config::PortSpec& spec, const port::Port& port) {
  if (spec.type() == config::PortType::kVhostUser) {
    const auto& vu = static_cast<const netback::VhostUserNetPort&>(port);
    netback::VhostUserNetStats s = vu.stats();
    Json queues = Json::array();
    for (const auto& q : s.queues) queues.push_back(queue_json(q));
    return Json{{"connected", s.connected},
                {"connections", s.connections},
                {"disconnects", s.disconnects},
                {"protocol-errors", s.protocol_errors},
                {"rejected-requests", s.rejected_requests},
                {"out-drop-not-ready", s.out_drop_not_ready},
                {"total", queue_json(s.total)},
                {"queues", queues}};
  }
  return Json::object();
}

}  // namespace uvs::daemon
