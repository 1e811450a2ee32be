// SPDX-License-Identifier: MIT
// uvswitch-extcap: Wireshark's extcap protocol on top of uvswitch's control socket.
//
// Wireshark (and tshark) run every program in their extcap folder: --extcap-interfaces to list
// interfaces, --extcap-dlts and --extcap-config per interface, then --capture --fifo PATH to
// capture, ending it with SIGTERM (Wireshark developer's guide, "Extcap: Developer Guide").
// A capture here is the daemon's own live capture (capture-start with file=-): the FIFO's
// descriptor is passed to the daemon, which writes nanosecond pcap into it directly.
#include <fcntl.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "config/runtime_paths.h"
#include "tools/extcap/extcap_sentences.h"
#include "tools/uvswitchctl/control_client.h"
#include "tools/uvswitchctl/live_capture.h"

namespace {

constexpr const char* kProgram = "uvswitch-extcap";
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// The control socket when Wireshark passes none: tshark -D runs --extcap-interfaces with no
// configuration, so the environment is the only way to point it at another daemon.
std::string default_control() {
  const char* env = std::getenv("UVSWITCH_CONTROL");
  return env && *env ? std::string(env) : uvs::config::default_control_path();
}

int fail(const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", kProgram, message.c_str());
  return kExitFailed;
}

// Wireshark checks a capture filter by running us with --extcap-capture-filter and no
// --capture: no output means valid, a line of output is the error it shows. The daemon
// compiles the same expression for an Ethernet link at capture-start.
int check_filter(const std::string& filter) {
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 262144);
  if (!dead) return fail("pcap_open_dead failed");
  bpf_program prog{};
  int rc = pcap_compile(dead, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN);
  if (rc == 0) {
    pcap_freecode(&prog);
  } else {
    std::printf("%s\n", pcap_geterr(dead));
  }
  pcap_close(dead);
  return rc == 0 ? kExitOk : kExitFailed;
}

int list_interfaces(const std::string& control) {
  uvs::ctl::Json ports = uvs::ctl::Json::array();
  uvs::ctl::ControlClient client;
  std::string error;
  // No daemon: no interfaces, but still a valid answer, so Wireshark starts normally.
  if (client.connect(control, &error)) {
    uvs::ctl::CallResult r = client.call("ports", uvs::ctl::Json::object(), 5000);
    if (r.transport_ok && r.reply.contains("return")) ports = r.reply["return"];
  }
  std::cout << uvs::extcap::interfaces_text(ports, UVS_VERSION) << std::flush;
  return kExitOk;
}

int capture(const std::string& control, const std::string& interface, const std::string& fifo,
            const std::string& filter, const std::string& capture_filter,
            const std::string& direction) {
  std::optional<std::string> port = uvs::extcap::port_of_interface(interface);
  if (!port) return fail("'" + interface + "' is not a uvswitch interface (uvswitch-PORT)");
  uvs::config::Result<std::string> spec =
      uvs::extcap::stream_spec(*port, filter, capture_filter, direction);
  if (!spec) return fail(spec.error().message);
  uvs::ctl::install_stop_signals();
  // Blocks until Wireshark opens its end for reading; a SIGTERM meanwhile interrupts it.
  int fd = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    if (uvs::ctl::stop_requested()) return kExitOk;
    return fail("cannot open the fifo " + fifo + ": " + std::strerror(errno));
  }
  uvs::ctl::ControlClient client;
  std::string error;
  if (!client.connect(control, &error)) {
    ::close(fd);
    return fail(error);
  }
  const int fds[] = {fd};
  uvs::ctl::CallResult r =
      client.call("capture-start", uvs::ctl::Json{{"spec", *spec}}, 10000, fds);
  if (!r.transport_ok) {
    ::close(fd);
    return fail(r.error);
  }
  if (!r.reply.contains("return")) {
    ::close(fd);
    return fail(r.reply["error"].value("desc", std::string("capture-start failed")));
  }
  const unsigned id = r.reply["return"].value("id", 0u);
  std::fprintf(stderr, "%s: capture %u of %s started (%s)\n", kProgram, id, port->c_str(),
               spec->c_str());
  const int rc = uvs::ctl::follow_live_capture(id, fd, control, kProgram);
  ::close(fd);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvswitch-extcap: Wireshark extcap program for the ports of a running uvswitch",
               kProgram};
  app.footer(
      "Install into Wireshark's extcap folder (tshark -G folders). Each port of the daemon at "
      "the control socket (--control, else $UVSWITCH_CONTROL, else uvswitch's default) is an "
      "interface uvswitch-PORT: tshark -D lists them, tshark -i uvswitch-vm0 captures vm0.");
  app.set_version_flag("--version", std::string("uvswitch-extcap ") + UVS_VERSION);
  bool interfaces = false, dlts = false, config = false, do_capture = false;
  std::string version, interface, fifo, capture_filter, control_in, control_out, reload, debug_file;
  std::string control = default_control(), filter, direction = "both";
  bool debug = false;
  app.add_flag("--extcap-interfaces", interfaces, "list the switch's ports as interfaces");
  app.add_option("--extcap-version", version, "Wireshark's extcap version (accepted, unused)");
  app.add_flag("--extcap-dlts", dlts, "list the interface's link type (Ethernet)");
  app.add_flag("--extcap-config", config, "list the interface's options");
  app.add_option("--extcap-interface", interface, "the interface (uvswitch-PORT)");
  app.add_flag("--capture", do_capture, "capture the interface into --fifo");
  app.add_option("--fifo", fifo, "FIFO to write the pcap stream to")->type_name("PATH");
  app.add_option("--extcap-capture-filter", capture_filter,
                 "capture filter (tshark -f); alone: check it for an Ethernet link");
  app.add_option("--extcap-control-in", control_in, "Wireshark control pipe (unused)");
  app.add_option("--extcap-control-out", control_out, "Wireshark control pipe (unused)");
  app.add_option("--extcap-reload-option", reload, "option to reload (none can be)");
  app.add_flag("--debug", debug, "Wireshark's debug switch (accepted, unused)");
  app.add_option("--debug-file", debug_file, "Wireshark's debug file (accepted, unused)");
  app.add_option("--control", control, "uvswitch control socket")
      ->type_name("PATH")
      ->capture_default_str();
  app.add_option("--filter", filter, "pcap-filter(7) expression the switch applies");
  app.add_option("--direction", direction, "in, out or both")
      ->check(CLI::IsMember({"in", "out", "both"}))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "%s: %s\n", kProgram, e.what());
    return kExitUsage;
  }

  if (interfaces) return list_interfaces(control);
  if (dlts) {
    std::cout << uvs::extcap::dlts_text() << std::flush;
    return kExitOk;
  }
  if (config) {
    std::cout << uvs::extcap::config_text(control) << std::flush;
    return kExitOk;
  }
  if (do_capture) {
    if (interface.empty() || fifo.empty()) {
      std::fprintf(stderr, "%s: --capture needs --extcap-interface and --fifo\n", kProgram);
      return kExitUsage;
    }
    return capture(control, interface, fifo, filter, capture_filter, direction);
  }
  if (!capture_filter.empty()) return check_filter(capture_filter);
  std::fprintf(stderr, "%s: give --extcap-interfaces, --extcap-dlts, --extcap-config or --capture\n",
               kProgram);
  return kExitUsage;
}
