// SPDX-License-Identifier: MIT
// Runtime directory and default control socket path.
#include "config/runtime_paths.h"

#include <unistd.h>

#include <cstdlib>

namespace uvs::config {

std::string runtime_dir_for(const char* xdg_runtime_dir, uid_t euid) {
  // XDG Base Directory spec: $XDG_RUNTIME_DIR is the per-user place for sockets. Without it,
  // root uses the FHS /run; anyone else gets a uid-tagged dir in /tmp.
  if (xdg_runtime_dir && *xdg_runtime_dir) return std::string(xdg_runtime_dir) + "/uvswitch";
  if (euid == 0) return "/run/uvswitch";
  return "/tmp/uvswitch-" + std::to_string(euid);
}

std::string default_runtime_dir() {
  return runtime_dir_for(std::getenv("XDG_RUNTIME_DIR"), geteuid());
}

std::string default_control_path() {
  return default_runtime_dir() + "/control.sock";
}

}  // namespace uvs::config
