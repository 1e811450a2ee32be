// SPDX-License-Identifier: MIT
// The benchmark's interrupt guard: SIGINT/SIGTERM/SIGHUP kill every child process at once, and
// what earlier killed runs left behind is swept away.
#pragma once

#include <sys/types.h>

namespace uvs::bench {

/// Installs SIGINT/SIGTERM/SIGHUP handlers that SIGKILL every registered child and set
/// interrupted(); the next such signal has its default effect. Ignores SIGPIPE (a child that died
/// under us must not kill the benchmark; children get the default back before exec). Removes
/// /var/run/dpdk/uvsbench-<pid>-* and /tmp/uvs-bench-{netback,switch}-<pid>.* left by earlier runs whose
/// process is gone (killed with SIGKILL: no chance to clean up). Call once, from main's thread.
void install_interrupt_guard();

/// True once SIGINT/SIGTERM/SIGHUP arrived: callers wind down and clean up. Any thread.
bool interrupted();

/// Sleeps `seconds`, waking early on an interrupt. Returns !interrupted().
bool sleep_unless_interrupted(double seconds);

/// Adds `pid` to the children the handler kills (at most 8 at a time; more are not tracked).
/// Kills it at once if an interrupt already arrived. Any thread.
void register_child(pid_t pid);
/// Removes `pid` (reaped) from them. Any thread.
void unregister_child(pid_t pid);

}  // namespace uvs::bench
