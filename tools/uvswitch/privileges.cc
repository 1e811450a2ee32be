// SPDX-License-Identifier: MIT
// drop_privileges: the per-thread capability steps around the process-wide id change.
#include "tools/uvswitch/privileges.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace uvs::daemon {
namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Capabilities, the bounding set, KEEPCAPS and no_new_privs are per thread in Linux
// (capabilities(7): "each thread has ..."), so the steps that keep a capability run on every
// thread that needs it. The id change itself is per thread in the kernel too, but glibc's
// setresuid/setresgid/setgroups apply it to all threads of the process (nptl's setxid
// broadcast), which is why that step runs once.
bool keep_across_ids(std::string* error) {
  // Without KEEPCAPS the uid change clears the permitted set.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    *error = errno_text("PR_SET_KEEPCAPS");
    return false;
  }
  return true;
}

bool only_net_admin(std::string* error) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  const unsigned bit = CAP_TO_MASK(CAP_NET_ADMIN);
  data[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted = bit;
  data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective = bit;
  if (syscall(SYS_capset, &hdr, data) != 0) {
    *error = errno_text("capset");
    return false;
  }
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) {
    *error = errno_text("PR_SET_KEEPCAPS");
    return false;
  }
  return true;
}

// Runs `step` on the calling thread and on every other; the first failure wins.
template <typename F>
bool on_every_thread(std::span<const OnThread> threads, F step, std::string* error) {
  if (!step(error)) return false;
  bool ok = true;
  for (const OnThread& run : threads) {
    std::string e;
    run([&] {
      if (!step(&e)) ok = false;
    });
    if (!ok) {
      *error = e;
      return false;
    }
  }
  return true;
}

}  // namespace

bool restrict_process(const DropPlan& plan, std::string* error) {
  for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (plan.keep_net_admin && cap == CAP_NET_ADMIN) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      *error = errno_text("PR_CAPBSET_DROP");
      return false;
    }
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    *error = errno_text("PR_SET_NO_NEW_PRIVS");
    return false;
  }
  return true;
}

bool drop_privileges(const DropPlan& plan, std::span<const OnThread> threads, std::string* error) {
  if (plan.keep_net_admin && !on_every_thread(threads, keep_across_ids, error)) return false;
  const gid_t groups[1] = {plan.gid};
  if (setgroups(1, groups) != 0) {
    *error = errno_text("setgroups");
    return false;
  }
  if (setresgid(plan.gid, plan.gid, plan.gid) != 0) {
    *error = errno_text("setresgid");
    return false;
  }
  if (setresuid(plan.uid, plan.uid, plan.uid) != 0) {
    *error = errno_text("setresuid");
    return false;
  }
  if (plan.keep_net_admin) return on_every_thread(threads, only_net_admin, error);
  return true;
}

}  // namespace uvs::daemon
