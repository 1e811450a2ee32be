// SPDX-License-Identifier: MIT
// The switch benchmark's idle scenario: the daemon's CPU use with two connected, idle QEMU guests.
#pragma once

#include <string>
#include <vector>

namespace uvs::bench {

/// What to run.
struct IdleGuestsOptions {
  std::string uvswitch;          ///< path of the uvswitch executable
  std::string qemu;              ///< path of qemu-system-x86_64
  std::string source_dir;        ///< the repo (tools/guest/ builds the guest image)
  std::string guest_dir;         ///< the guest image cache (vmlinuz, base.cpio.gz)
  std::string dir;               ///< this scenario's sockets and logs (must exist)
  std::vector<unsigned> threads = {1, 2};  ///< one measurement per daemon --threads value
  std::vector<int> daemon_cpus;  ///< CPU mask of the daemon; empty: unrestricted
  double seconds = 10.0;         ///< measured interval
  double settle_seconds = 3.0;   ///< after both ports are up, before measuring
};

/// One measurement.
struct IdleResult {
  std::string error;        ///< non-empty: no figure
  unsigned threads = 0;
  double seconds = 0;       ///< wall time measured
  double core_share = 0;    ///< daemon CPU / wall (1.0 = one core)
  double guest_frames = 0;  ///< frames the switch took in from the guests meanwhile
  bool ok() const { return error.empty(); }
};

/// Boots two TCG guests (the repo's guest recipe, tools/guest/) whose /test.sh brings eth0 up with
/// IPv6 off and then sleeps, attached as vhost-user clients (reconnect=1) to ports g1 and g2 of
/// the daemon; for each `threads` value starts the daemon, waits until both guests are connected
/// and the link settled, and measures the daemon's CPU time over `seconds`. Guests reconnect to
/// each new daemon, so they boot once. Returns one result per `threads` value (or one result
/// with the error when the guests could not be set up). Control thread; takes ~30 s + measuring.
std::vector<IdleResult> run_idle_guests(const IdleGuestsOptions& o);

}  // namespace uvs::bench
