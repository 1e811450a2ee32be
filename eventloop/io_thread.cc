// SPDX-License-Identifier: MIT
// IoThread: starting, naming, pinning and joining a loop's thread.
#include "eventloop/io_thread.h"

#include <pthread.h>
#include <sched.h>

#include <cerrno>

namespace uvs::ev {

IoThread::IoThread(std::string name, const LoopOptions& options)
    : name_(std::move(name)), loop_(options) {}

IoThread::~IoThread() {
  stop();
}

bool IoThread::start(std::optional<int> cpu) {
  thread_ = std::thread([this] {
    // Linux limits thread names to 15 characters; top and perf show this one.
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    loop_.run();
  });
  if (!cpu) return true;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(*cpu, &set);
  int rc = pthread_setaffinity_np(thread_.native_handle(), sizeof set, &set);
  if (rc != 0) {
    errno = rc;
    return false;
  }
  return true;
}

void IoThread::stop() {
  if (!thread_.joinable()) return;
  loop_.request_stop();
  thread_.join();
}

}  // namespace uvs::ev
