// SPDX-License-Identifier: MIT
// The daemon's optional seccomp allow-list (--seccomp=on), built with libseccomp.
#pragma once

#include <string>

namespace uvs::daemon {

/// Installs a filter on every thread of the process (SCMP_FLTATR_CTL_TSYNC) that allows only
/// the system calls the running daemon makes (its event loops, vhost-user, tap, socket ports,
/// libslirp, libpcap captures, the control socket) and kills the process on any other, so an
/// exploited parser cannot reach the rest of the kernel's interface. Call once start-up is
/// over (nothing left to exec or mount). False with `*error`. Control thread.
bool install_seccomp_filter(std::string* error);

}  // namespace uvs::daemon
