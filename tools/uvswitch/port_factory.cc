// SPDX-License-Identifier: MIT
// Port factory: the daemon's table of port types, one entry per config registry entry.
#include "tools/uvswitch/port_factory.h"

#include <iterator>
#include <variant>

namespace uvs::daemon {
namespace {

// Adding a type: its factory file beside the others and its entry here, at the index of its
// config::PortType (config/port_types.cc). A type built only with an option (DPDK) still has an
// entry; without the option its make() says so by name.
const PortFactory* const kFactories[] = {&kVhostUserFactory, &kTapFactory, &kStreamFactory,
                                         &kDgramFactory,     &kNatFactory, &kVxlanFactory,
                                         &kDpdkFactory};

static_assert(std::size(kFactories) == std::variant_size_v<config::PortBackend>,
              "one factory per port type");

}  // namespace

RunningPort make_port(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error) {
  const auto index = static_cast<size_t>(spec.type());
  const PortFactory* f = kFactories[index];
  if (f->type != spec.type()) {
    *error = "port " + spec.id + ": no factory for type '" +
             config::port_type_name(spec.type()) + "'";
    return {};
  }
  RunningPort rp = f->make(spec, loop, error);
  if (rp.port && !rp.details) rp.details = [] { return Json::object(); };
  return rp;
}

}  // namespace uvs::daemon
