// SPDX-License-Identifier: MIT
// Port factory: the daemon's table of port types, one entry per config registry entry.
#include "tools/uvswitch/port_factory.h"

namespace uvs::daemon {

// The entries, each defined beside its type's factory (<type>_factory.cc).
extern const PortFactory kVhostUserFactory;
extern const PortFactory kTapFactory;
extern const PortFactory kStreamFactory;
extern const PortFactory kDgramFactory;
extern const PortFactory kNatFactory;
extern const PortFactory kVxlanFactory;
extern const PortFactory kDpdkFactory;

namespace {

// Adding a type: its factory file beside the others and its entry here. A type built only with
// an option (DPDK) still has an entry: without the option its factory file is one whose make()
// says so by name (tools/uvswitch/CMakeLists.txt picks the file).
const PortFactory* const kFactories[] = {&kVhostUserFactory, &kTapFactory, &kStreamFactory,
                                         &kDgramFactory,     &kNatFactory, &kVxlanFactory,
                                         &kDpdkFactory};

}  // namespace

std::span<const PortFactory* const> port_factories() {
  return kFactories;
}

const PortFactory* find_port_factory(const config::PortTypeInfo* type) {
  for (const PortFactory* f : kFactories) {
    if (f->type == type) return f;
  }
  return nullptr;
}

RunningPort make_port(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error) {
  const PortFactory* f = find_port_factory(spec.type);
  if (!f) {
    *error = "port " + spec.id + ": no factory for type '" + std::string(spec.type_name()) + "'";
    return {};
  }
  RunningPort rp = f->make(spec, loop, error);
  if (rp.port && !rp.details) rp.details = [] { return Json::object(); };
  return rp;
}

}  // namespace uvs::daemon
