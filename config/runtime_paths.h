// SPDX-License-Identifier: MIT
// Runtime paths: where the daemon puts its sockets when the user names none.
#pragma once

#include <sys/types.h>

#include <string>

namespace uvs::config {

/// The runtime directory rule: "$XDG_RUNTIME_DIR/uvswitch" when `xdg_runtime_dir` is set and
/// non-empty, else "/run/uvswitch" for root (euid 0), else "/tmp/uvswitch-<euid>". Pure.
std::string runtime_dir_for(const char* xdg_runtime_dir, uid_t euid);

/// runtime_dir_for() applied to this process's environment and effective uid.
std::string default_runtime_dir();

/// "<default_runtime_dir()>/control.sock": where uvswitch listens and uvswitchctl connects
/// unless --control says otherwise.
std::string default_control_path();

}  // namespace uvs::config
