// SPDX-License-Identifier: MIT
// The idle scenario: guest image, two QEMU guests, a daemon per thread count, CPU over an interval.
#include "tools/bench/idle_guests.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

#include "eventloop/clock.h"
#include "tools/bench/child_process.h"
#include "tools/bench/interrupt_guard.h"
#include "tools/bench/switch_daemon.h"

namespace uvs::bench {
namespace {

constexpr int kGuestBootMs = 180'000;  // TCG boots in ~4 s alone; much slower beside other load
constexpr int kReconnectMs = 20'000;   // QEMU's reconnect=1 retries once a second
const char* const kReadyMarker = "UVS-IDLE-UP";

/// Runs a shell command line (our own scripts with quoted paths); true on exit status 0.
bool run_script(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool file_contains(const std::string& path, const std::string& needle) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.find(needle) != std::string::npos;
}

/// One guest: QEMU with the idle initrd, a vhost-user NIC (QEMU is the client, reconnect=1).
struct Guest {
  ChildProcess qemu;
  std::string console;
};

std::string start_guest(const IdleGuestsOptions& o, const std::string& initrd, int n, Guest* g) {
  const std::string name = "g" + std::to_string(n);
  g->console = o.dir + "/" + name + "-console.log";
  std::ofstream(g->console).close();
  // The guest recipe of docs TESTING.md / tests/e2e/lib/guest.sh: shared memfd RAM (vhost-user
  // maps it), vectors=0 (QEMU 7.2 under TCG crashes setting up MSI-X for vhost-user).
  const std::vector<std::string> argv = {
      o.qemu, "-accel", "tcg", "-smp", "1", "-m", "256", "-nographic", "-nodefaults",
      "-no-reboot", "-object", "memory-backend-memfd,id=mem,size=256M,share=on", "-numa",
      "node,memdev=mem", "-kernel", o.guest_dir + "/vmlinuz", "-initrd", initrd, "-append",
      "console=ttyS0 panic=-1 loglevel=4 uvs.name=" + name, "-serial", "file:" + g->console,
      "-chardev", "socket,id=c0,reconnect=1,path=" + o.dir + "/" + name + ".sock", "-netdev",
      "vhost-user,id=n0,chardev=c0", "-device",
      "virtio-net-pci,netdev=n0,romfile=,vectors=0,mac=52:54:00:00:00:0" + std::to_string(n)};
  // QEMU's own CPU is not what is measured: leave it unrestricted.
  std::string err = g->qemu.start(argv, o.dir + "/" + name + "-qemu.log");
  return err.empty() ? err : name + ": " + err;
}

/// Frames the switch took in from the guests (ports' in-frames), or -1.
double guest_frames(SwitchDaemon& d) {
  ctl::Json st;
  std::string err;
  if (!d.call("stats", &st, &err)) return -1;
  double n = 0;
  for (const auto& p : st["ports"]) n += double(p["switch"].value("in-frames", uint64_t{0}));
  return n;
}

}  // namespace

std::vector<IdleResult> run_idle_guests(const IdleGuestsOptions& o) {
  auto fail = [](const std::string& e) {
    IdleResult r;
    r.error = e;
    return std::vector<IdleResult>{r};
  };
  // The image is cached in guest_dir: this is quick unless the kernel must be fetched.
  if (!run_script(quoted(o.source_dir + "/tools/guest/build-guest.sh") + " " +
                  quoted(o.guest_dir) + " >&2")) {
    return fail("building the guest image in " + o.guest_dir + " failed");
  }
  const std::string script = o.dir + "/idle.sh";
  {
    std::ofstream s(script);
    // IPv6 off: no router solicitations or DAD, so "idle" means no traffic at all once up.
    s << "echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6 2>/dev/null\n"
         "ip link set eth0 up\n"
         "echo " << kReadyMarker << "\n"
         "exec sleep 1000000\n";
  }
  const std::string initrd = o.dir + "/idle-initrd.gz";
  if (!run_script(quoted(o.source_dir + "/tools/guest/make-test-initrd.sh") + " " +
                  quoted(o.guest_dir + "/base.cpio.gz") + " " + quoted(script) + " " +
                  quoted(initrd) + " >&2")) {
    return fail("making the guest initrd failed");
  }

  std::vector<IdleResult> out;
  Guest guests[2];
  bool booted = false;
  for (unsigned t : o.threads) {
    IdleResult r;
    r.threads = t;
    SwitchDaemon d;
    SwitchDaemonOptions dopt;
    dopt.binary = o.uvswitch;
    dopt.dir = o.dir;
    dopt.threads = t;
    dopt.cpus = o.daemon_cpus;
    dopt.ports = {"vhost-user,id=g1,path=" + o.dir + "/g1.sock,thread=0",
                  "vhost-user,id=g2,path=" + o.dir + "/g2.sock,thread=" + std::to_string(t - 1)};
    r.error = d.start(dopt, 15'000);
    if (r.ok() && !booted) {
      for (int n = 0; n < 2 && r.ok(); ++n) r.error = start_guest(o, initrd, n + 1, &guests[n]);
      const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(kGuestBootMs);
      while (r.ok()) {
        if (file_contains(guests[0].console, kReadyMarker) &&
            file_contains(guests[1].console, kReadyMarker)) {
          booted = true;
          break;
        }
        for (auto& g : guests) {
          if (!g.qemu.running()) r.error = "QEMU exited:" + tail_lines(g.qemu.log(), 6);
        }
        if (r.ok() && std::chrono::steady_clock::now() >= end) {
          r.error = "the guests did not boot within " + std::to_string(kGuestBootMs / 1000) + " s";
        }
        if (interrupted()) r.error = "interrupted";
        if (r.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    if (r.ok() && !d.wait_ports_up({"g1", "g2"}, kReconnectMs)) {
      r.error = "the guests did not connect to the daemon";
    }
    if (r.ok() && !sleep_unless_interrupted(o.settle_seconds)) r.error = "interrupted";
    if (r.ok()) {
      const double f0 = guest_frames(d);
      const int64_t c0 = d.cpu_ns(), w0 = ev::now_ns();
      if (!sleep_unless_interrupted(o.seconds)) r.error = "interrupted";
      const int64_t c1 = d.cpu_ns(), w1 = ev::now_ns();
      r.seconds = double(w1 - w0) / 1e9;
      r.core_share = double(c1 - c0) / double(w1 - w0);
      r.guest_frames = guest_frames(d) - f0;
    }
    if (!d.running() && r.ok()) r.error = "uvswitch exited:" + tail_lines(d.log(), 6);
    d.stop();
    out.push_back(r);
    if (interrupted() || !booted) break;
  }
  for (auto& g : guests) g.qemu.stop(1000);
  return out;
}

}  // namespace uvs::bench
