// SPDX-License-Identifier: MIT
// pin_current_thread: the benchmarks' one way of putting a thread on a CPU.
#pragma once

#include <pthread.h>
#include <sched.h>

namespace uvs::bench {

/// Pins the calling thread to `cpu`. No-op for cpu < 0. Returns false if the kernel refused
/// (the CPU does not exist or is not allowed); the thread then keeps its old affinity.
inline bool pin_current_thread(int cpu) {
  if (cpu < 0) return true;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

}  // namespace uvs::bench
