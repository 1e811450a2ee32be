// SPDX-License-Identifier: MIT
// Daemon command line: flag definitions, --help text, and flag/file merging with exit code 2 on
// error.
#include "tools/uvswitch/daemon_cli.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <vector>

#include "config/config_file.h"
#include "config/config_merge.h"
#include "config/fd_check.h"
#include "config/limits.h"
#include "config/path_check.h"
#include "config/port_types.h"
#include "config/suggest.h"
#include "config/vhost_user_port_spec.h"
#include "tools/uvswitch/daemon.h"

namespace uvs::daemon {
namespace {

constexpr const char* kSpecsHead =
    R"HELP(PORT SPECS (QEMU-style keyval: the type, then key=value items separated by ','):
)HELP";

constexpr const char* kSpecsTail =
    R"HELP(  Without any --port (flag or file) two ports are configured: vhost-user,id=vm0,
  path=<runtime dir>/vm0.sock,server=on and nat,id=nat0 (10.0.2.0/24), so a guest on vm0 gets
  DHCP, DNS and outbound NAT with no flags.

CAPTURE SPECS:
  [port=]ID,file=PATH[,dir=in|out|both][,filter=BPF][,snaplen=N][,max-size=MB][,max-files=N][,mode=OCTAL]
  filter is a pcap-filter(7) expression (write ',' as ',,'); max-files needs max-size.
  Files are created with mode (default 0600); symlinks, fifos, devices and files of other
  users are refused.
  Files are nanosecond pcap (Ethernet); with max-size FILE is the newest, then FILE.1, FILE.2 ...
  At run time: uvswitchctl capture-start SPEC / capture-stop PORT / captures; file=- there
  streams pcap to uvswitchctl's stdout (uvswitchctl capture-start port=vm0,file=- | tshark -r -).

CONFIG FILE (TOML, same keys as the flags; flags win over the file):
  threads = 2
  log-level = "debug"
  [[port]]
  type = "vhost-user"
  id = "vm0"
  path = "/run/uvswitch/vm0.sock"
  trunk = [10, 20]
  [[capture]]
  port = "vm0"
  file = "/tmp/vm0.pcap"
  A --port whose id matches a file port replaces it; a --capture writing the same file as a
  file capture replaces it.

RUNTIME DIRECTORY: $XDG_RUNTIME_DIR/uvswitch if set, else /run/uvswitch as root, else
  /tmp/uvswitch-$UID. Created with mode 0700 when the default control socket is used.

BACKEND PROGRAM (vhost-user.rst "Backend program conventions", e.g. launched by libvirt):
  uvswitch --socket-path PATH   one vhost-user port vm0 listening on PATH
  uvswitch --fd N               one vhost-user port vm0 on inherited fd N: a connected socket
                                (what libvirt passes) or a listening one
  uvswitch --print-capabilities prints {"type": "net"} and exits 0
  In these modes there is no control socket unless --control PATH is given; more --port flags
  and a --config file still add ports (a NAT, a tap) beside vm0. Without a control socket, a
  connected --fd serves its one frontend: when it leaves, uvswitch shuts down (exit 0).

CONTROL PROTOCOL (uvswitchctl speaks it; so can socat): one JSON object per line each way,
  {"execute":"version"} -> {"return":{...}} or {"error":{"class":"...","desc":"..."}}.
  Commands: version, threads, ports, port-add, port-del, stats, fdb, fdb-flush, quit,
  query-commands, capture-start, capture-stop, captures, metrics.

METRICS: uvswitchctl metrics (or the metrics command, {"return":{"text":...}}) prints every
  counter in the Prometheus text format: uvswitch_port_rx_frames_total{port="vm0"},
  uvswitch_port_drops_total{port=..,reason=..}, uvswitch_loop_*, uvswitch_fdb_*, uvswitch_nat_*,
  uvswitch_capture_* ...; --metrics-file writes the same text every --metrics-interval seconds
  and removes the file at shutdown.

EXIT CODES:
  0  clean shutdown (SIGINT, SIGTERM or the quit command), or --help/--version/
     --print-capabilities
  1  run-time failure (another uvswitch already serves the control socket, bind failed, ...)
  2  bad usage or configuration (unknown flag, bad value, bad config file, an --fd that is not
     an open stream socket); nothing was started

PORT TYPES: )HELP";

constexpr const char* kFooterEnd =
    R"HELP( ports forward through the switch. A NAT
port's forwards change at run time with uvswitchctl hostfwd-add / hostfwd-del / hostfwd-list.)HELP";

// The help footer: each port type's block and each key's line come from the registry.
std::string help_footer() {
  return std::string(kSpecsHead) + config::port_types_help() + kSpecsTail +
         config::port_type_names(" and ") + kFooterEnd;
}

// The options whose value goes through the config layer's parser, so flags and file keys share
// one rule set and one set of messages.
struct ValueFlag {
  const char* key;   // layer key == flag name without "--"
  const char* type;  // metavar in --help
  std::string help;
};

std::vector<ValueFlag> value_flags() {
  return {
      {"control", "PATH", "control socket (default: <runtime dir>/control.sock)"},
      {"threads", "N",
       "I/O threads, 1.." + std::to_string(config::kMaxThreads) + " (default: online CPUs, at most " +
           std::to_string(config::kDefaultMaxThreads) + ")"},
      {"poll-max-ns", "NS",
       "max busy-poll window per loop iteration in ns, 0 disables (default 32768)"},
      {"poll-grow", "N", "busy-poll window growth factor; 0 or 1 mean 2 (default 2)"},
      {"poll-shrink", "N", "busy-poll window shrink divisor; 0 resets to 0 (default 2)"},
      {"log-level", "L", "error, warn, info (default), debug or trace"},
      {"fdb-aging", "S", "MAC table aging in seconds, 0 disables (default 300)"},
      {"user", "USER[:GROUP]",
       "once taps and sockets are open, switch to USER (and GROUP, default USER's), drop every "
       "capability, set no_new_privs (default: keep the starting identity)"},
      {"control-group", "GROUP",
       "members of GROUP may use the control socket too (default: only root and the daemon's "
       "user)"},
      {"seccomp", "on|off",
       "after start-up, allow only the system calls the daemon needs; others kill it (default "
       "off)"},
      {"metrics-file", "PATH",
       "write every counter in Prometheus text format to PATH (atomically: PATH.tmp, then "
       "rename) for node_exporter's textfile collector (default: none)"},
      {"metrics-interval", "S", "seconds between metrics-file rewrites, 1..86400 (default 10)"},
      {"dpdk-args", "ARGS",
       "DPDK EAL arguments, one string, e.g. \"--no-huge -m 512 --no-pci --file-prefix sw0\"; "
       "only in builds with DPDK (default: EAL's own, when a dpdk port exists)"},
  };
}

int fail(const std::string& message) {
  std::fprintf(stderr, "uvswitch: %s\n", message.c_str());
  std::fprintf(stderr, "uvswitch: run 'uvswitch --help' for the syntax\n");
  return kExitUsage;
}

}  // namespace

CliOutcome parse_daemon_cli(int argc, char** argv, const config::Environment& env) {
  CliOutcome out;
  CLI::App app{"uvswitch: a userspace virtual switch for VMs (vhost-user, tap, NAT)", "uvswitch"};
  app.footer(help_footer());
  app.set_version_flag("--version", std::string("uvswitch ") + UVS_VERSION);
  app.get_formatter()->column_width(34);

  std::string config_file;
  app.add_option("--config", config_file, "TOML config file (same keys as the flags)")
      ->type_name("FILE");
  std::vector<ValueFlag> flags = value_flags();
  std::vector<std::string> values(flags.size());
  for (size_t i = 0; i < flags.size(); ++i) {
    app.add_option(std::string("--") + flags[i].key, values[i], flags[i].help)
        ->type_name(flags[i].type)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
  // Backend program conventions (vhost-user.rst): one port, launched by a VMM manager.
  std::string socket_path, fd_text;
  bool print_capabilities = false;
  app.add_option("--socket-path", socket_path,
                 "backend program: serve one vhost-user port vm0 on PATH")
      ->type_name("PATH");
  app.add_option("--fd", fd_text, "backend program: one vhost-user port vm0 on inherited fd N")
      ->type_name("N");
  app.add_flag("--print-capabilities", print_capabilities,
               "backend program: print {\"type\": \"net\"} and exit");
  bool keep_cap_net_admin = false;
  app.add_flag("--keep-cap-net-admin", keep_cap_net_admin,
               "with --user: keep CAP_NET_ADMIN so port-add can still create taps (default: "
               "drop it)");
  std::vector<std::string> ports, captures;
  // One SPEC per flag: "--port a b" must not swallow b as a second port.
  app.add_option("--port", ports, "add a port (repeatable); SPEC below")
      ->type_name("SPEC")
      ->allow_extra_args(false);
  app.add_option("--capture", captures, "capture a port's frames to pcap (repeatable)")
      ->type_name("SPEC")
      ->allow_extra_args(false);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::string help = app.help();
    if (help.empty() || help.back() != '\n') help += '\n';  // the footer ends without one
    std::fputs(help.c_str(), stdout);
    out.exit_code = kExitOk;
    return out;
  } catch (const CLI::CallForVersion& e) {
    std::printf("%s\n", e.what());
    out.exit_code = kExitOk;
    return out;
  } catch (const CLI::ExtrasError& e) {
    // Suggest the nearest flag for a misspelt one ("--thread" -> "--threads").
    std::vector<std::string> names = {"--config",      "--port", "--capture",
                                      "--help",        "--version", "--socket-path",
                                      "--fd", "--print-capabilities"};
    for (const auto& f : flags) names.push_back(std::string("--") + f.key);
    std::vector<std::string_view> views(names.begin(), names.end());
    for (const std::string& extra : app.remaining()) {
      std::string word = extra.substr(0, extra.find('='));
      if (word.size() > 1 && word[0] == '-') {
        out.exit_code = fail("unknown flag '" + word + "'" + config::did_you_mean(word, views));
        return out;
      }
    }
    out.exit_code = fail(std::string(e.what()) + " (uvswitch takes no positional arguments)");
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_code = fail(e.what());
    return out;
  }

  if (print_capabilities) {
    // vhost-user.rst: a JSON object whose "type" is the device type; nothing else is started.
    std::printf("{\"type\": \"net\"}\n");
    out.exit_code = kExitOk;
    return out;
  }
  const bool backend_mode = app.count("--socket-path") > 0 || app.count("--fd") > 0;
  if (app.count("--socket-path") > 0 && app.count("--fd") > 0) {
    out.exit_code = fail("--socket-path and --fd exclude each other (one vhost-user socket)");
    return out;
  }

  config::ConfigLayer file_layer;
  if (!config_file.empty()) {
    auto loaded = config::load_config_file(config_file);
    if (!loaded) {
      out.exit_code = fail(loaded.error().message);
      return out;
    }
    file_layer = std::move(*loaded);
  }
  config::ConfigLayer flag_layer;
  for (size_t i = 0; i < flags.size(); ++i) {
    std::string name = std::string("--") + flags[i].key;
    if (app.count(name) == 0) continue;
    auto r = flag_layer.set_option(flags[i].key, values[i], name);
    if (!r) {
      out.exit_code = fail(r.error().message);
      return out;
    }
  }
  if (keep_cap_net_admin) {
    auto r = flag_layer.set_option("keep-cap-net-admin", "on", "--keep-cap-net-admin");
    if (!r) {
      out.exit_code = fail(r.error().message);
      return out;
    }
  }
  if (backend_mode) {
    config::PortSpec vm0;
    vm0.id = "vm0";
    config::VhostUserPortSpec vu;
    if (app.count("--fd") > 0) {
      auto fd = config::parse_socket_fd(fd_text);
      if (!fd) {
        out.exit_code = fail("--fd: " + fd.error().message);
        return out;
      }
      vu.fd = *fd;
    } else {
      auto ok = config::check_socket_path(socket_path);
      if (!ok) {
        out.exit_code = fail("--socket-path: " + ok.error().message);
        return out;
      }
      vu.path = socket_path;
    }
    vm0.type = &config::kVhostUserPortType;
    vm0.backend = std::move(vu);
    auto r = flag_layer.add_port(std::move(vm0), app.count("--fd") > 0 ? "--fd" : "--socket-path");
    if (!r) {
      out.exit_code = fail(r.error().message);
      return out;
    }
  }
  for (const std::string& p : ports) {
    auto r = flag_layer.add_port_text(p);
    if (!r) {
      out.exit_code = fail(r.error().message);
      return out;
    }
  }
  for (const std::string& c : captures) {
    auto r = flag_layer.add_capture_text(c);
    if (!r) {
      out.exit_code = fail(r.error().message);
      return out;
    }
  }
  auto merged = config::merge_config(file_layer, flag_layer, env);
  if (!merged) {
    out.exit_code = fail(merged.error().message);
    return out;
  }
  out.config = std::move(*merged);
  out.config.config_file = config_file;
  if (backend_mode && !flag_layer.control_path && !file_layer.control_path) {
    // A launched backend serves its one guest; a control socket is opt-in (--control).
    out.config.control_path.clear();
    out.run = true;
    return out;
  }

  // The daemon creates only the default runtime directory; a chosen control path's directory
  // has to exist, and saying so now beats a bind() error after start-up.
  const std::string& ctl = out.config.control_path;
  if (ctl != out.config.runtime_dir + "/control.sock") {
    size_t slash = ctl.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : ctl.substr(0, slash));
    struct stat st {};
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      std::string origin = flag_layer.control_path ? "--control" : file_layer.control_path->origin;
      out.exit_code = fail(origin + ": directory '" + dir + "' does not exist");
      return out;
    }
  }
  out.run = true;
  return out;
}

}  // namespace uvs::daemon
