// SPDX-License-Identifier: MIT
// merge_config: combines the config-file layer and the flag layer into one checked DaemonConfig.
#pragma once

#include "config/config_layer.h"
#include "config/daemon_config.h"
#include "config/result.h"

namespace uvs::config {

/// Builds the daemon's configuration. Flags win over the file:
///   - an option set by both takes the flag's value;
///   - a --port whose id matches a file port replaces that port (it does not merge keys);
///   - a --capture writing the same file as a file capture replaces it;
///   - other ports and captures from both sources are kept, file first.
/// Unset options take their defaults (threads: env.online_cpus, at most kDefaultMaxThreads; control socket:
/// <env.runtime_dir>/control.sock). With no port at all, the built-in default is one vhost-user
/// port "vm0" in server mode at <env.runtime_dir>/vm0.sock.
/// Then checks what needs the whole configuration: thread=K below the thread count, socket
/// paths used once (ports and control socket), tap ifnames and dgram local addresses used once,
/// and each capture's port exists. Errors start with the origin of the offending setting.
/// Reads the file system only through the path checks.
Result<DaemonConfig> merge_config(const ConfigLayer& file, const ConfigLayer& flags,
                                  const Environment& env);

}  // namespace uvs::config
