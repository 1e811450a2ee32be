// SPDX-License-Identifier: MIT
// install_seccomp_filter: the allow-list, measured with strace -f over the daemon's tests.
#include "tools/uvswitch/seccomp_filter.h"

#include <seccomp.h>

#include <cerrno>
#include <cstring>

namespace uvs::daemon {
namespace {

// Every call here was seen under strace -f -c while the daemon served vhost-user guests,
// taps, stream and dgram ports, the NAT (DHCP, DNS, TCP and UDP forwarding), captures started
// and stopped at run time, port-add/port-del and a clean shutdown; plus the calls glibc may
// use instead of the ones seen (newer variants: clone3/clone, epoll_pwait2/epoll_pwait,
// statx/newfstatat).
constexpr const char* kAllowed[] = {
    // memory
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
    // threads, signals, time
    "clone", "clone3", "set_robust_list", "rseq", "futex", "exit", "exit_group", "gettid",
    "getpid", "tgkill", "rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "sigaltstack",
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "setpriority", "getpriority",
    "clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "getrandom", "prctl",
    "restart_syscall",
    // fds and files
    "read", "write", "readv", "writev", "pread64", "pwrite64", "close", "dup", "dup2", "dup3",
    "fcntl", "ioctl", "openat", "open", "fstat", "newfstatat", "statx", "lstat", "stat",
    "lseek", "ftruncate", "fchmod", "fchown", "unlink", "unlinkat", "rename", "renameat",
    "renameat2", "chmod", "lchown", "flock", "pipe2", "fsync", "fdatasync", "getdents64",
    "readlink", "readlinkat", "memfd_create", "umask", "mkdir", "mkdirat", "access",
    "faccessat", "faccessat2", "getcwd", "uname", "sysinfo", "getrusage",
    "prlimit64", "getuid", "geteuid", "getgid", "getegid",
    // event loop
    "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "ppoll", "poll",
    "eventfd2", "signalfd4", "timerfd_create", "timerfd_settime",
    // sockets
    "socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "shutdown",
    "getsockname", "getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg",
    "recvmsg", "sendmmsg", "recvmmsg",
};

}  // namespace

bool install_seccomp_filter(std::string* error) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (!ctx) {
    *error = "seccomp_init failed";
    return false;
  }
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  for (const char* name : kAllowed) {
    if (rc != 0) break;
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture (open on arm64, ...)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
  }
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) {
    *error = std::string("seccomp: ") + std::strerror(-rc);
    return false;
  }
  return true;
}

}  // namespace uvs::daemon
