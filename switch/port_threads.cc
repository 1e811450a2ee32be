// SPDX-License-Identifier: MIT
// PortThreads: creating, pinning, starting and joining the forwarding threads.
#include "switch/port_threads.h"

#include <optional>

namespace uvs::bridge {

PortThreads::PortThreads(size_t count, const ev::LoopOptions& options, const std::string& prefix) {
  if (count == 0) count = 1;
  for (size_t i = 0; i < count; ++i) {
    threads_.push_back(std::make_unique<ev::IoThread>(prefix + std::to_string(i), options));
    loops_.push_back(&threads_.back()->loop());
  }
}

PortThreads::~PortThreads() {
  stop();
}

bool PortThreads::start(std::span<const int> cpus) {
  bool ok = true;
  for (size_t i = 0; i < threads_.size(); ++i) {
    std::optional<int> cpu;
    if (i < cpus.size()) cpu = cpus[i];
    if (!threads_[i]->running()) ok &= threads_[i]->start(cpu);
  }
  // IoThread::start returns before the thread has claimed its loop, and until it has, the loop
  // reports in_loop_thread() to everyone: a control call made right now would run inline, racing
  // the new thread. One hand-off per loop makes "started" mean "running" for the caller.
  for (auto& t : threads_) t->loop().run_in_loop_sync([] {});
  return ok;
}

void PortThreads::stop() {
  for (auto& t : threads_) t->stop();
}

}  // namespace uvs::bridge
