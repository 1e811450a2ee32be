// SPDX-License-Identifier: MIT
// PortTable: add/remove sequencing between the control thread, the port's loop and the bridge.
#include "tools/uvswitch/port_table.h"

#include <algorithm>

#include "config/vhost_user_port_spec.h"
#include "port/offload_layout.h"
#include "tools/uvswitch/port_factory.h"

namespace uvs::daemon {
namespace {

bridge::VlanConfig to_bridge_vlan(const config::VlanConfig& v) {
  bridge::VlanConfig b;
  b.mode =
      v.mode == config::VlanMode::kTrunk ? bridge::VlanMode::kTrunk : bridge::VlanMode::kAccess;
  b.access_vlan = v.access_vlan;
  b.trunk = v.trunk;
  b.native_vlan = 0;  // the config has no native-VLAN key: untagged frames on a trunk drop
  return b;
}

const char* state_name(port::PortState s) {
  switch (s) {
    case port::PortState::kUp:
      return "up";
    case port::PortState::kBroken:
      return "broken";
    case port::PortState::kDown:
      break;
  }
  return "down";
}

}  // namespace

PortTable::PortTable(bridge::PortThreads& threads, bridge::Bridge& bridge)
    : threads_(threads), bridge_(bridge) {}

PortTable::~PortTable() {
  remove_all();
}

bool PortTable::contains(const std::string& id) const {
  return std::any_of(ports_.begin(), ports_.end(), [&](const Entry& e) { return e.spec.id == id; });
}

const config::PortSpec* PortTable::spec(const std::string& id) const {
  for (const Entry& e : ports_) {
    if (e.spec.id == id) return &e.spec;
  }
  return nullptr;
}

bool PortTable::details(const std::string& id, Json* out, std::string* error) {
  for (Entry& e : ports_) {
    if (e.spec.id != id) continue;
    *out = backend_json(e);
    return true;
  }
  *error = "no port with id '" + id + "'";
  return false;
}

bool PortTable::command(const std::string& id, std::string_view command, const Json& args,
                        CommandReply* reply, std::string* error) {
  for (Entry& e : ports_) {
    if (e.spec.id != id) continue;
    if (!e.running.command) {
      *error = "port " + id + " (" + std::string(e.spec.type_name()) + ") has no command '" +
               std::string(command) + "'";
      return false;
    }
    threads_.loop(e.thread).run_in_loop_sync(
        [&] { *reply = e.running.command(command, args, e.spec); });
    return true;
  }
  *error = "no port with id '" + id + "'";
  return false;
}

void PortTable::destroy_on_loop(Entry& e) {
  e.spread.reset();  // takes itself apart on each of its threads
  // The port belongs to its loop: its destructor unregisters handlers there.
  threads_.loop(e.thread).run_in_loop_sync([&] { e.running = RunningPort{}; });
}

Json PortTable::backend_json(Entry& e) {
  Json out;
  if (e.spread) {
    out = e.spread->details();
  } else {
    threads_.loop(e.thread).run_in_loop_sync([&] { out = e.running.details(); });
  }
  // Queue pair p of a vhost-user port runs on threads[p % n] (VhostUserNetOptions::lanes).
  if (e.spec.backend.get_if<config::VhostUserPortSpec>() && out.contains("queues")) {
    Json& queues = out["queues"];
    for (size_t p = 0; p < queues.size(); ++p) queues[p]["thread"] = e.threads[p % e.threads.size()];
  }
  return out;
}

bool PortTable::add(const config::PortSpec& spec, std::string* error) {
  if (contains(spec.id)) {
    *error = "port " + spec.id + ": a port with this id exists already";
    return false;
  }
  Entry e;
  e.spec = spec;
  const auto* vu = spec.backend.get_if<config::VhostUserPortSpec>();
  if (vu && !vu->threads.empty()) {
    e.threads = vu->threads;  // threads=: the parser refuses it beside thread=
  } else if (vu && vu->threads_auto) {
    // threads=auto: as many threads as pairs, at most all; each lane counts as a port there,
    // so the next auto port starts on the threads this one left idle.
    e.threads = bridge_.pick_threads(vu->queues);
  } else {
    e.threads = {spec.thread ? *spec.thread : bridge_.pick_thread()};
  }
  e.thread = e.threads[0];
  if (e.thread >= threads_.size()) {
    *error = "port " + spec.id + ": thread=" + std::to_string(e.thread) + " but there are only " +
             std::to_string(threads_.size()) + " threads";
    return false;
  }
  if (e.threads.size() > 1) {
    e.spread = VhostUserSpread::create(spec, e.threads, threads_, error);
    if (!e.spread) return false;
  } else {
    threads_.loop(e.thread).run_in_loop_sync(
        [&] { e.running = make_port(spec, threads_.loop(e.thread), error); });
    if (!e.running.port) return false;
  }

  bridge::PortOptions po;
  po.vlan = to_bridge_vlan(spec.vlan);
  po.thread = e.thread;
  po.name = spec.id;
  const config::PortSecurity& sec = spec.security;
  po.security.max_macs = sec.max_macs.value_or(0);
  po.security.bum_rate = sec.bum_rate.value_or(0);
  if (sec.allowed_mac) po.security.allowed_mac = sec.allowed_mac->bytes;
  bridge::Result<bridge::PortIndex> r =
      e.spread ? bridge_.add_port(e.spread->lanes(), po) : bridge_.add_port(*e.running.port, po);
  if (!r) {
    *error = "port " + spec.id + ": " + r.error().message;
    destroy_on_loop(e);
    return false;
  }
  e.index = *r;
  ports_.push_back(std::move(e));
  return true;
}

bool PortTable::remove(const std::string& id, std::string* error) {
  auto it =
      std::find_if(ports_.begin(), ports_.end(), [&](const Entry& e) { return e.spec.id == id; });
  if (it == ports_.end()) {
    *error = "no port with id '" + id + "'";
    return false;
  }
  // Detach first: afterwards no thread forwards toward the port, so it can go.
  bridge_.remove_port(it->index);
  destroy_on_loop(*it);
  ports_.erase(it);
  return true;
}

void PortTable::remove_all() {
  std::string ignored;
  while (!ports_.empty()) remove(ports_.back().spec.id, &ignored);
}

Json PortTable::list() {
  bridge::BridgeStats bs = bridge_.stats();
  Json out = Json::array();
  for (Entry& e : ports_) {
    port::PortState state = port::PortState::kDown;
    if (e.spread) {
      state = e.spread->state();
    } else {
      threads_.loop(e.thread).run_in_loop_sync([&] { state = e.running.port->state(); });
    }
    Json backend = backend_json(e);
    Json sw = Json::object();
    for (const bridge::PortStats& ps : bs.ports) {
      if (ps.index != e.index) continue;
      sw = Json{{"in-frames", ps.in_frames},           {"in-bytes", ps.in_bytes},
                {"out-frames", ps.out_frames},         {"out-bytes", ps.out_bytes},
                {"drop-runt", ps.drop_runt},           {"drop-vlan", ps.drop_vlan},
                {"drop-filtered", ps.drop_filtered},   {"drop-no-buffers", ps.drop_no_buffers},
                {"drop-port-down", ps.drop_port_down}, {"drop-broken", ps.drop_broken},
                {"in-csum", ps.in_csum},               {"in-gso", ps.in_gso},
                {"out-csum", ps.out_csum},             {"out-gso", ps.out_gso},
                {"sw-segmented", ps.sw_segmented},     {"sw-segments", ps.sw_segments},
                {"sw-csum", ps.sw_csum},
                {"drop-max-macs", ps.drop_max_macs},   {"drop-allowed-mac", ps.drop_allowed_mac},
                {"drop-bum-rate", ps.drop_bum_rate},   {"fdb-full", ps.fdb_full}};
      Json drops = Json::object();
      for (size_t i = 1; i < port::kOffloadErrorCount; ++i) {
        drops[port::offload_error_name(static_cast<port::OffloadError>(i))] = ps.drop_offload[i];
      }
      sw["drop-offload"] = drops;
    }
    out.push_back(Json{{"id", e.spec.id},
                       {"type", std::string(e.spec.type_name())},
                       {"thread", e.thread},
                       {"threads", e.threads},
                       {"state", state_name(state)},
                       {"switch", sw},
                       {"backend", backend}});
  }
  return out;
}

}  // namespace uvs::daemon
