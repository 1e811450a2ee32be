// SPDX-License-Identifier: MIT
// Dropping root once start-up is done: ids, capabilities and no_new_privs on every thread.
#pragma once

#include <sys/types.h>

#include <functional>
#include <span>
#include <string>

namespace uvs::daemon {

/// Where --user takes the daemon.
struct DropPlan {
  uid_t uid = 0;
  gid_t gid = 0;
  bool keep_net_admin = false;  ///< keep CAP_NET_ADMIN (permitted and effective) for taps
};

/// Runs a function on one of the daemon's threads and waits for it (run_in_loop_sync).
using OnThread = std::function<void(const std::function<void()>&)>;

/// The steps that need no resource closed yet: cuts the capability bounding set to
/// CAP_NET_ADMIN (or to nothing) and sets PR_SET_NO_NEW_PRIVS, so no execve can ever regain
/// more. Both are per thread and inherited, so call it on the main thread before any other
/// thread exists; root's permitted capabilities stay usable until drop_privileges(). False with
/// `*error`.
bool restrict_process(const DropPlan& plan, std::string* error);

/// Switches the whole process to `plan`: the supplementary groups become `gid`, then gid and
/// uid (real, effective, saved) change on every thread, which empties every thread's
/// capabilities; with keep_net_admin the caller's thread and `threads` (the port threads, which
/// create taps) keep CAP_NET_ADMIN. `threads` runs a function on each of them. Returns false
/// with `*error` naming the step that failed; the process should then exit, since it may be
/// half-dropped. Start-up, control thread, once, after restrict_process().
bool drop_privileges(const DropPlan& plan, std::span<const OnThread> threads, std::string* error);

}  // namespace uvs::daemon
