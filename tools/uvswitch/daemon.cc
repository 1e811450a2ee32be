// SPDX-License-Identifier: MIT
// Daemon lifecycle: start order, the start-up banner, signal handling and clean shutdown.
#include "tools/uvswitch/daemon.h"

#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>
#include <vector>

#include "eventloop/fn_handler.h"
#include "netback/common/unix_socket.h"
#include "tools/uvswitch/capture_commands.h"
#include "tools/uvswitch/control_server.h"
#include "tools/uvswitch/control_socket.h"
#include "tools/uvswitch/log.h"
#include "tools/uvswitch/metrics_export.h"
#include "tools/uvswitch/nat_commands.h"
#include "tools/uvswitch/privileges.h"
#include "tools/uvswitch/seccomp_filter.h"

namespace uvs::daemon {

namespace {
// How often a backend program checks whether its --fd frontend left: exiting within half a
// second of the guest going away is soon enough for a launcher, and costs nothing when idle.
constexpr int64_t kFdWatchPeriodNs = 500'000'000;
}  // namespace

Daemon::Daemon(config::DaemonConfig cfg) : cfg_(std::move(cfg)) {}

Daemon::~Daemon() {
  stop_switch();
}

void Daemon::stop_switch() {
  // Ports go first (guests see the socket close), the bridge while its loops still run (it
  // cancels its timer there), then the threads. Captures end first, so their files are
  // complete and valid.
  captures_.reset();
  ports_.reset();
  bridge_.reset();
  if (threads_) threads_->stop();
  threads_.reset();
}

void Daemon::request_shutdown(const std::string& why) {
  if (shutdown_reason_.empty()) shutdown_reason_ = why;
  control_loop_->request_stop();
}

bool Daemon::start_switch(std::string* error) {
  ev::LoopOptions opts;
  opts.poll_max_ns = cfg_.poll_max_ns;
  opts.poll_grow = cfg_.poll_grow;
  opts.poll_shrink = cfg_.poll_shrink;
  try {
    threads_ = std::make_unique<bridge::PortThreads>(cfg_.threads, opts, "uvs-io");
    bridge::BridgeOptions bo;
    bo.aging_ns = int64_t(cfg_.fdb_aging_s) * 1'000'000'000;
    // The bridge arms its aging timer on loop 0, so it exists before the loops run.
    bridge_ = std::make_unique<bridge::Bridge>(threads_->loops(), bo);
    if (!threads_->start()) {
      *error = "cannot start the I/O threads";
      return false;
    }
  } catch (const std::exception& e) {
    // Thread or epoll creation failed (limits): start-up cannot continue.
    *error = std::string("cannot start the I/O threads: ") + e.what();
    return false;
  }
  // The built-in ports live in the runtime dir; it is ours to create, private to this user.
  if (cfg_.default_ports && ::mkdir(cfg_.runtime_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "cannot create the runtime dir " + cfg_.runtime_dir + ": " + std::strerror(errno);
    return false;
  }
  ports_ = std::make_unique<PortTable>(*threads_, *bridge_);
  for (const config::PortSpec& p : cfg_.ports) {
    // Asked before the port owns the fd: a listener (SO_ACCEPTCONN) takes new frontends, a
    // connected socket serves exactly one.
    const PortFactory* f = find_port_factory(p.type);
    const bool one_frontend = f && f->single_peer && f->single_peer(p);
    if (!ports_->add(p, error)) return false;
    if (one_frontend) fd_conn_ports_.push_back(p.id);
  }
  captures_ = std::make_unique<CaptureTable>(*bridge_);
  for (const config::CaptureSpec& c : cfg_.captures) {
    if (!captures_->start(c, -1, error)) return false;
  }
  return true;
}

void Daemon::check_fd_frontends() {
  size_t gone = 0;
  for (const std::string& id : fd_conn_ports_) {
    std::string error;
    bool left = true;  // a port that no longer exists has no frontend either
    Json d;
    if (ports_->details(id, &d, &error)) {
      left = !d.value("connected", false) && d.value("disconnects", uint64_t{0}) > 0;
    }
    if (left) ++gone;
  }
  if (gone == fd_conn_ports_.size()) {
    request_shutdown("the frontend on the inherited socket (--fd) left; none can reconnect");
    return;
  }
  fd_watch_->arm_in(kFdWatchPeriodNs);
}

void Daemon::print_banner() const {
  std::string names;
  const size_t nt = threads_->size();
  if (nt > 4) {
    names = threads_->name(0) + " .. " + threads_->name(nt - 1);
  } else {
    for (size_t i = 0; i < nt; ++i) names += (names.empty() ? "" : ", ") + threads_->name(i);
  }
  std::printf("uvswitch %s running (pid %d)\n", UVS_VERSION, static_cast<int>(getpid()));
  std::printf("  I/O threads:    %u (%s)%s; poll-max-ns=%lld poll-grow=%lld poll-shrink=%lld\n",
              cfg_.threads, names.c_str(), cfg_.threads_from_cpus ? " [online CPUs, at most 8]" : "",
              static_cast<long long>(cfg_.poll_max_ns), static_cast<long long>(cfg_.poll_grow),
              static_cast<long long>(cfg_.poll_shrink));
  if (cfg_.control_path.empty()) {
    std::printf("  control socket: none (backend program; --control PATH adds one)\n");
  } else {
    std::printf("  control socket: %s  (try: uvswitchctl --control %s threads)\n",
                cfg_.control_path.c_str(), cfg_.control_path.c_str());
  }
  if (!cfg_.config_file.empty()) std::printf("  config file:    %s\n", cfg_.config_file.c_str());
  std::printf("  ports:          %zu configured%s\n", cfg_.ports.size(),
              cfg_.default_ports ? " (built-in default)" : "");
  for (const auto& p : cfg_.ports) {
    std::printf("    %s\n", config::to_keyval(p).c_str());
  }
  if (!cfg_.captures.empty()) {
    std::printf("  captures:       %zu configured\n", cfg_.captures.size());
  }
  for (const auto& p : cfg_.ports) {
    const PortFactory* f = find_port_factory(p.type);
    if (f && f->banner) std::fputs(f->banner(p, cfg_.control_path).c_str(), stdout);
  }
  std::fflush(stdout);
}

namespace {

// Every NAT connection is a host socket: 1024 fds (the usual soft limit) would cap a NAT port
// near a thousand connections although the hard limit allows far more. Raising soft to hard
// needs no privilege.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int Daemon::run() {
  raise_fd_limit();
  if (cfg_.user) {
    // Before any thread exists, so that every thread inherits it.
    std::string err;
    if (!restrict_process({cfg_.user->uid, cfg_.user->gid, cfg_.keep_cap_net_admin}, &err)) {
      std::fprintf(stderr, "uvswitch: --user %s: %s\n", cfg_.user->text.c_str(), err.c_str());
      return kExitRuntime;
    }
  }
  // The control loop never busy-polls: it only serves the control socket and signals.
  ev::LoopOptions control_opts;
  control_opts.poll_max_ns = 0;
  try {
    control_loop_ = std::make_unique<ev::EventLoop>(control_opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "uvswitch: cannot create the control loop: %s\n", e.what());
    return kExitRuntime;
  }

  // Signals: main() blocked them in every thread; they arrive here as readable data.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) {
    std::fprintf(stderr, "uvswitch: signalfd: %s\n", std::strerror(errno));
    return kExitRuntime;
  }
  ev::FnHandler signal_handler;
  signal_handler.read = [&] {
    signalfd_siginfo si{};
    while (::read(sfd, &si, sizeof si) == sizeof si) {
      request_shutdown(std::string("received SIG") + sigabbrev_np(static_cast<int>(si.ssi_signo)));
    }
  };

  ControlSocket socket;
  std::string error;
  // Only the default runtime directory is ours to create (0700); a --control path's directory
  // must already exist (checked before start-up). A backend program (--socket-path / --fd) has
  // no control socket unless --control asked for one.
  const bool has_control = !cfg_.control_path.empty();
  const bool private_dir = cfg_.control_path == cfg_.runtime_dir + "/control.sock";
  if (has_control && !socket.open(cfg_.control_path, private_dir, &error)) {
    std::fprintf(stderr, "uvswitch: %s\n", error.c_str());
    ::close(sfd);
    return kExitRuntime;
  }

  if (has_control && cfg_.control_group &&
      !socket.share_with_group(cfg_.control_group->gid, private_dir, &error)) {
    std::fprintf(stderr, "uvswitch: --control-group %s: %s\n", cfg_.control_group->name.c_str(),
                 error.c_str());
    ::close(sfd);
    return kExitRuntime;
  }

  // Before the I/O threads: DPDK's EAL pins its caller while it starts and creates its own
  // threads.
  for (const PortFactory* f : port_factories()) {
    if (f->start_process && !f->start_process(cfg_, &error)) {
      std::fprintf(stderr, "uvswitch: %s\n", error.c_str());
      ::close(sfd);
      return kExitRuntime;
    }
  }

  if (!start_switch(&error)) {
    std::fprintf(stderr, "uvswitch: %s\n", error.c_str());
    stop_switch();
    ::close(sfd);
    return kExitRuntime;  // `socket` is removed by its destructor
  }

  // Everything that needs root is open now (taps, sockets in root's directories, captures,
  // NAT forwards to low ports): give up root before serving anyone.
  if (cfg_.user) {
    DropPlan plan{cfg_.user->uid, cfg_.user->gid, cfg_.keep_cap_net_admin};
    std::vector<OnThread> others;
    for (size_t i = 0; i < threads_->size(); ++i) {
      others.push_back([this, i](const std::function<void()>& fn) {
        threads_->loop(i).run_in_loop_sync(fn);
      });
    }
    if (!drop_privileges(plan, others, &error)) {
      std::fprintf(stderr, "uvswitch: --user %s: %s\n", cfg_.user->text.c_str(), error.c_str());
      stop_switch();
      ::close(sfd);
      return kExitRuntime;
    }
    log(LogLevel::kInfo, "now running as uid " + std::to_string(plan.uid) + ", gid " +
                             std::to_string(plan.gid) +
                             (plan.keep_net_admin ? ", keeping only CAP_NET_ADMIN"
                                                  : ", no capabilities"));
  }

  // Last: nothing from here on opens devices, execs or changes ids.
  if (cfg_.seccomp && !install_seccomp_filter(&error)) {
    std::fprintf(stderr, "uvswitch: --seccomp=on: %s\n", error.c_str());
    stop_switch();
    ::close(sfd);
    return kExitRuntime;
  }

  register_builtin_commands(commands_, *this);
  register_nat_commands(commands_, *this);
  register_capture_commands(commands_, *this);
  register_metrics_command(commands_);
  started_ = std::chrono::steady_clock::now();
  int rc = kExitOk;
  {
    ControlServer server(*control_loop_, socket, commands_);
    ControlServer::Access access{::geteuid(), std::nullopt, {}};
    if (cfg_.control_group) {
      access.group = cfg_.control_group->gid;
      access.group_name = cfg_.control_group->name;
    }
    server.set_access(std::move(access));
    if (has_control) server.start();
    ev::FdRegistration signal_reg = control_loop_->add_fd(sfd, ev::Events::kRead, &signal_handler);
    std::unique_ptr<MetricsFile> metrics_file;
    if (!cfg_.metrics_file.empty()) {
      metrics_file = std::make_unique<MetricsFile>(*control_loop_, commands_, cfg_.metrics_file,
                                                   cfg_.metrics_interval_s);
      metrics_file->start();
    }
    print_banner();
    log(LogLevel::kInfo, "ready");
    if (!has_control && !fd_conn_ports_.empty()) {
      fd_watch_ = std::make_unique<ev::Timer>(
          *control_loop_, ev::Callback::bind<&Daemon::check_fd_frontends>(this));
      fd_watch_->arm_in(kFdWatchPeriodNs);
    }

    control_loop_->run();

    log(LogLevel::kInfo,
        "shutting down (" +
            (shutdown_reason_.empty() ? std::string("stop requested") : shutdown_reason_) + ")");
    // Remove the socket before the clients see EOF, so a client that waited for the hang-up
    // after `quit` finds the path gone.
    server.stop_listening();
    socket.close();
    server.stop();
    signal_reg.reset();
    fd_watch_.reset();
    metrics_file.reset();  // removes the file: a stopped daemon's counters are not current
  }
  stop_switch();
  ::close(sfd);
  log(LogLevel::kInfo, "stopped");
  return rc;
}

}  // namespace uvs::daemon
