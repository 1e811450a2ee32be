// SPDX-License-Identifier: MIT
// The stream and dgram port types in the daemon: options from the config, and counters.
#include "tools/uvswitch/port_factory.h"

#include <cstdio>

#include "config/dgram_port_spec.h"
#include "config/stream_port_spec.h"
#include "netback/host/dgram_port.h"
#include "netback/host/stream_port.h"
#include "tools/uvswitch/netback_factory_util.h"

namespace uvs::daemon {
namespace {

Json stream_json(const netback::StreamPort& sp) {
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

RunningPort make_stream(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error) {
  const auto& s = spec.backend.get<config::StreamPortSpec>();
  netback::StreamPortOptions o;
  o.name = spec.id;
  o.path = s.path;
  if (s.addr) o.addr = s.addr->to_string();
  o.role = s.server ? netback::StreamRole::kServer : netback::StreamRole::kClient;
  if (s.mode) o.access.mode = *s.mode;
  if (s.group) o.access.group = s.group->gid;
  return started(std::make_unique<netback::StreamPort>(loop, std::move(o)), error, stream_json);
}

Json dgram_json(const netback::DgramPort& p) {
  netback::DgramPortStats s = p.stats();
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

RunningPort make_dgram(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error) {
  const auto& d = spec.backend.get<config::DgramPortSpec>();
  netback::DgramPortOptions o;
  o.name = spec.id;
  o.local = d.local.to_string();
  o.remote = d.remote.to_string();
  return started(std::make_unique<netback::DgramPort>(loop, std::move(o)), error, dgram_json);
}

}  // namespace

extern const PortFactory kStreamFactory{&config::kStreamPortType, make_stream};
extern const PortFactory kDgramFactory{&config::kDgramPortType, make_dgram};

}  // namespace uvs::daemon
