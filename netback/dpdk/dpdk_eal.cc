// SPDX-License-Identifier: MIT
// init_dpdk_eal: argv from the --dpdk-args string, rte_eal_init once, affinity restored.
#include "netback/dpdk/dpdk_eal.h"

#include <pthread.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <sched.h>

#include <mutex>
#include <sstream>
#include <vector>

namespace uvs::netback {
namespace {

std::once_flag g_once;
Status g_status = Status::fail(NetbackError::kDevice, "DPDK EAL not initialised");
bool g_ready = false;

void do_init(const std::string& args) {
  std::vector<std::string> words{"uvswitch"};
  std::istringstream in(args);
  for (std::string w; in >> w;) words.push_back(w);
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);

  cpu_set_t saved;
  const bool have_saved = pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) == 0;
  const int rc = rte_eal_init(static_cast<int>(words.size()), argv.data());
  if (have_saved) pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
  if (rc < 0) {
    const int err = rte_errno;
    g_status = Status::fail(NetbackError::kDevice,
                            "--dpdk-args \"" + args + "\": DPDK EAL initialisation failed: " +
                                rte_strerror(err));
    return;
  }
  g_ready = true;
  g_status = Status::success();
}

}  // namespace

Status init_dpdk_eal(const std::string& args) {
  std::call_once(g_once, do_init, args);
  return g_status;
}

bool dpdk_eal_ready() noexcept {
  return g_ready;
}

}  // namespace uvs::netback
