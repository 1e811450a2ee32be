// SPDX-License-Identifier: MIT
// The vhost-user port type in the daemon: options from the config, and its counters.
#include "tools/uvswitch/vhost_user_factory.h"

#include <cstdio>

#include "config/limits.h"
#include "config/vhost_user_port_spec.h"
#include "netback/common/unix_socket.h"
#include "netback/vhost/vhost_user_net_port.h"
#include "tools/uvswitch/netback_factory_util.h"

namespace uvs::daemon {
namespace {

// The config parser refuses queues= above its limit by name, before anything starts; that limit
// must be exactly what the backend serves, or the error would come only at start-up.
static_assert(config::kMaxQueuePairs == netback::kMaxQueuePairs,
              "config::kMaxQueuePairs must equal the vhost-user backend's queue pair limit");

// Every netback port has the same start() contract; this turns its Status into the daemon's
// error text (the Status already names the port).
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

Json vhost_user_json(const netback::VhostUserNetPort& vu, const netback::VhostUserNetStats& s) {
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

bool vhost_user_options(const config::PortSpec& spec, netback::VhostUserNetOptions* out,
                        std::string* error) {
  const auto& vu = spec.backend.get<config::VhostUserPortSpec>();
  netback::VhostUserNetOptions& o = *out;
  o.name = spec.id;
  o.socket_path = vu.path;
  o.role = vu.server ? netback::SocketRole::kServer : netback::SocketRole::kClient;
  if (vu.fd) {
    // libvirt passes a connected socket; a launcher may also pass a listener (SO_ACCEPTCONN).
    int listening = netback::socket_is_listening(*vu.fd);
    if (listening < 0) {
      *error = "port " + spec.id + ": fd=" + std::to_string(*vu.fd) + " is no longer a socket";
      return false;
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
  o.lanes = 1;  // VhostUserSpread sets the count of a port on several threads
  return true;
}

namespace {

RunningPort make_vhost_user(const config::PortSpec& spec, ev::EventLoop& loop,
                            std::string* error) {
  netback::VhostUserNetOptions o;
  if (!vhost_user_options(spec, &o, error)) return {};
  return started(std::make_unique<netback::VhostUserNetPort>(loop, std::move(o)), error,
                 [](const netback::VhostUserNetPort& vu) { return vhost_user_json(vu, vu.stats()); });
}

// An inherited connected socket (what libvirt passes) serves its one frontend; a listener
// (SO_ACCEPTCONN) takes new ones.
bool vhost_user_single_peer(const config::PortSpec& spec) {
  const auto& vu = spec.backend.get<config::VhostUserPortSpec>();
  return vu.fd && netback::socket_is_listening(*vu.fd) == 0;
}

// What a user pastes to attach a guest: shared guest RAM is what vhost-user needs. An inherited
// socket's frontend is attached already.
std::string vhost_user_banner(const config::PortSpec& spec, const std::string&) {
  const auto& vu = spec.backend.get<config::VhostUserPortSpec>();
  if (vu.fd) return {};
  const std::string& id = spec.id;
  return "  attach a QEMU guest to " + id +
         ":\n"
         "    qemu-system-x86_64 -m 1G -object memory-backend-memfd,id=mem,size=1G,share=on "
         "-numa node,memdev=mem \\\n"
         "      -chardev socket,id=" +
         id + ",path=" + vu.path + (vu.server ? "" : ",server=on,wait=off") +
         " -netdev vhost-user,id=" + id + ",chardev=" + id +
         " \\\n"
         "      -device virtio-net-pci,netdev=" +
         id + " ...\n";
}

}  // namespace

extern const PortFactory kVhostUserFactory{.type = &config::kVhostUserPortType,
                                           .make = make_vhost_user,
                                           .banner = vhost_user_banner,
                                           .single_peer = vhost_user_single_peer};

}  // namespace uvs::daemon
