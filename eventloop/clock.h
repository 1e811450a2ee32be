// SPDX-License-Identifier: MIT
// The one monotonic nanosecond clock every loop, timer and statistic uses.
#pragma once

#include <cstdint>
#include <ctime>

namespace uvs::ev {

/// Nanoseconds on CLOCK_MONOTONIC. Any thread; never fails on Linux.
inline int64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// CPU time consumed by the calling thread, in nanoseconds. Used by statistics and benchmarks.
inline int64_t thread_cpu_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// A wait timeout in ns as the timespec pointer ppoll and epoll_pwait2 take: null for a negative
/// timeout (wait forever), else `storage` filled in. Never fails.
inline timespec* timeout_timespec(int64_t timeout_ns, timespec* storage) noexcept {
  if (timeout_ns < 0) return nullptr;
  storage->tv_sec = timeout_ns / 1'000'000'000;
  storage->tv_nsec = timeout_ns % 1'000'000'000;
  return storage;
}

}  // namespace uvs::ev
