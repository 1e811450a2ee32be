// SPDX-License-Identifier: MIT
// IoThread: a named thread that runs one EventLoop until asked to stop.
#pragma once

#include <optional>
#include <string>
#include <thread>

#include "eventloop/event_loop.h"

namespace uvs::ev {

/// Owns a loop and the thread running it. The loop exists from construction, so handlers can be
/// registered before start(); after start() reach the loop only through its thread-safe calls.
class IoThread {
 public:
  explicit IoThread(std::string name, const LoopOptions& options = {});
  ~IoThread();  ///< stops and joins
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  /// Starts the thread, optionally pinned to `cpu`. Returns false (with errno set) if the
  /// affinity could not be applied; the thread then runs unpinned.
  bool start(std::optional<int> cpu = std::nullopt);
  /// Asks the loop to stop and joins the thread. Idempotent. Not from the loop thread itself.
  void stop();

  EventLoop& loop() { return loop_; }
  const std::string& name() const { return name_; }
  bool running() const { return thread_.joinable(); }

 private:
  std::string name_;
  EventLoop loop_;
  std::thread thread_;
};

}  // namespace uvs::ev
