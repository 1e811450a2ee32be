// SPDX-License-Identifier: MIT
// The dpdk port type's entry in a build without DPDK: the config refuses the type already, and
// this entry says so again should a spec reach it.
#include "tools/uvswitch/port_factory.h"

#include "config/dpdk_port_spec.h"

namespace uvs::daemon {
namespace {

RunningPort make_dpdk_port(const config::PortSpec& spec, ev::EventLoop&, std::string* error) {
  *error = "port " + spec.id + ": this uvswitch was built without DPDK (configure with " +
           "-DUVS_WITH_DPDK=ON)";
  return {};
}

}  // namespace

extern const PortFactory kDpdkFactory{&config::kDpdkPortType, make_dpdk_port};

}  // namespace uvs::daemon
