// SPDX-License-Identifier: MIT
// follow_live_capture: the wait loop shared by uvswitchctl capture-start file=- and the extcap.
#include "tools/uvswitchctl/live_capture.h"

#include <poll.h>

#include <csignal>
#include <cstdio>
#include <optional>

#include "tools/uvswitchctl/control_client.h"

namespace uvs::ctl {
namespace {

volatile sig_atomic_t g_interrupted = 0;
void on_signal(int) { g_interrupted = 1; }

// Whether capture `id` still runs; nullopt when the daemon cannot be asked.
std::optional<bool> capture_running(const std::string& control, unsigned id) {
  ControlClient c;
  std::string error;
  if (!c.connect(control, &error)) return std::nullopt;
  CallResult r = c.call("captures", Json::object(), 5000);
  if (!r.transport_ok || !r.reply.contains("return")) return std::nullopt;
  for (const Json& cap : r.reply["return"]) {
    if (cap.value("id", 0u) == id) return true;
  }
  return false;
}

}  // namespace

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: blocking calls return EINTR at once
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() { return g_interrupted != 0; }

int follow_live_capture(unsigned id, int out_fd, const std::string& control, const char* program) {
  install_stop_signals();
  // The daemon has its own copy of out_fd; keeping ours open costs nothing and lets poll()
  // report POLLERR when the reader (tshark, Wireshark) exits.
  for (;;) {
    pollfd p{out_fd, 0, 0};
    const int rc = ::poll(&p, 1, 250);
    const bool reader_gone = rc > 0 && (p.revents & (POLLERR | POLLHUP));
    if (g_interrupted || reader_gone) {
      ControlClient c;
      std::string error;
      if (c.connect(control, &error)) c.call("capture-stop", Json{{"id", id}}, 5000);
      std::fprintf(stderr, "%s: capture %u stopped (%s)\n", program, id,
                   g_interrupted ? "interrupted" : "reader closed the stream");
      return 0;
    }
    std::optional<bool> running = capture_running(control, id);
    if (!running) {
      std::fprintf(stderr, "%s: lost the daemon at %s; capture %u ends with it\n", program,
                   control.c_str(), id);
      return 1;
    }
    if (!*running) {
      std::fprintf(stderr, "%s: capture %u ended\n", program, id);
      return 0;
    }
  }
}

}  // namespace uvs::ctl
