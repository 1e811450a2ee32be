// SPDX-License-Identifier: MIT
// vhost_pair: test helper running two vhost-user-net ports on one loop with their sinks
// cross-wired (A's guest TX goes to B's guest RX and back); prints counters on SIGUSR1 and on exit.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "eventloop/event_loop.h"
#include "eventloop/fn_handler.h"
#include "netback/vhost/vhost_user_net_port.h"

using namespace uvs;
using netback::VhostUserNetOptions;
using netback::VhostUserNetPort;

namespace {

/// Sends every burst that arrives from one port out of the other; counts what did not fit.
struct CrossSink final : port::FrameSink {
  port::Port* a = nullptr;
  port::Port* b = nullptr;
  uint64_t forwarded[2] = {};  // frames from A (0) / B (1) accepted by the other side
  uint64_t dropped[2] = {};

  void receive_burst(port::Port& from, std::span<const port::Frame> frames) noexcept override {
    int dir = &from == a ? 0 : 1;
    port::Port* to = dir == 0 ? b : a;
    size_t n = to->send_burst(frames);
    forwarded[dir] += n;
    dropped[dir] += frames.size() - n;
  }
};

void usage() {
  std::fprintf(stderr,
               "usage: vhost_pair --a PATH --b PATH [--client] [--queues N] [--mtu N]\n"
               "  Two vhost-user-net ports (server sockets by default; --client connects to\n"
               "  listening frontends) whose traffic is cross-wired. Prints counters on\n"
               "  SIGUSR1 (and keeps running) and on SIGTERM/SIGINT (then exits 0).\n");
}

void print_port(const char* label, const VhostUserNetPort& p) {
  netback::VhostUserNetStats s = p.stats();
  const netback::NetQueueStats& t = s.total;
  std::printf(
      "%s in_frames=%" PRIu64 " in_bytes=%" PRIu64 " out_frames=%" PRIu64 " out_bytes=%" PRIu64
      " in_drop_bad_chain=%" PRIu64 " in_drop_too_short=%" PRIu64 " in_drop_too_big=%" PRIu64
      " in_drop_no_sink=%" PRIu64 " out_drop_no_buffers=%" PRIu64 " out_drop_too_big=%" PRIu64
      " out_drop_not_ready=%" PRIu64 " kicks=%" PRIu64 " calls=%" PRIu64
      " connections=%" PRIu64 " disconnects=%" PRIu64 " protocol_errors=%" PRIu64
      " rejected=%" PRIu64 " state=%d features=0x%" PRIx64 "\n",
      label, t.in_frames, t.in_bytes, t.out_frames, t.out_bytes, t.in_drop_bad_chain,
      t.in_drop_too_short, t.in_drop_too_big, t.in_drop_no_sink, t.out_drop_no_buffers,
      t.out_drop_too_big, s.out_drop_not_ready, t.kicks, t.calls, s.connections, s.disconnects,
      s.protocol_errors, s.rejected_requests, static_cast<int>(p.state()),
      p.device().acked_features());
}

}  // namespace

int main(int argc, char** argv) {
  std::string path_a, path_b;
  bool client = false;
  uint32_t queues = 1;
  uint16_t mtu = 1500;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--a") {
      path_a = next();
    } else if (a == "--b") {
      path_b = next();
    } else if (a == "--client") {
      client = true;
    } else if (a == "--queues") {
      queues = static_cast<uint32_t>(std::stoul(next()));
    } else if (a == "--mtu") {
      mtu = static_cast<uint16_t>(std::stoul(next()));
    } else {
      usage();
      return 2;
    }
  }
  if (path_a.empty() || path_b.empty()) {
    usage();
    return 2;
  }

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) {
    std::perror("signalfd");
    return 1;
  }

  ev::EventLoop loop;
  CrossSink sink;
  int rc = 0;
  {
    auto make = [&](const char* name, const std::string& path) {
      VhostUserNetOptions o;
      o.name = name;
      o.socket_path = path;
      o.role = client ? netback::SocketRole::kClient : netback::SocketRole::kServer;
      o.queue_pairs = queues;
      o.mtu = mtu;
      // Cross-wired, each port's frames go straight to the other: offloads need no fallback.
      o.offloads = true;
      return o;
    };
    VhostUserNetPort a(loop, make("A", path_a));
    VhostUserNetPort b(loop, make("B", path_b));
    sink.a = &a;
    sink.b = &b;
    a.set_sink(&sink);
    b.set_sink(&sink);
    for (VhostUserNetPort* p : {&a, &b}) {
      netback::Status s = p->start();
      if (!s) {
        std::fprintf(stderr, "vhost_pair: %s\n", s.to_string().c_str());
        return 1;
      }
    }
    // The counters as one block: an "A ..." and a "B ..." line, then the "PAIR ..." line.
    auto print_all = [&] {
      print_port("A", a);
      print_port("B", b);
      std::printf("PAIR a_to_b=%" PRIu64 " a_to_b_dropped=%" PRIu64 " b_to_a=%" PRIu64
                  " b_to_a_dropped=%" PRIu64 "\n",
                  sink.forwarded[0], sink.dropped[0], sink.forwarded[1], sink.dropped[1]);
      std::fflush(stdout);
    };
    ev::FnHandler sig;
    sig.read = [&] {
      signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
        // SIGUSR1: a snapshot for tests that are about to SIGKILL this process.
        if (si.ssi_signo == SIGUSR1) {
          print_all();
        } else {
          loop.request_stop();
        }
      }
    };
    ev::FdRegistration sig_reg = loop.add_fd(sfd, ev::Events::kRead, &sig);
    std::printf("READY\n");
    std::fflush(stdout);
    loop.run();

    print_all();
  }
  close(sfd);
  return rc;
}
