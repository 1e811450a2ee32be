// SPDX-License-Identifier: MIT
// PortThreads: the N forwarding IoThreads ports are spread over, started and stopped together.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "eventloop/event_loop.h"
#include "eventloop/io_thread.h"

namespace uvs::bridge {

/// Owns `count` IoThreads named "<prefix>-<i>". Create ports on loop(i), hand loops() to the
/// Bridge, then start(). Destroy the Bridge before this (its loops must outlive it).
class PortThreads {
 public:
  /// Creates the loops (not yet running). `count` is at least 1. Control thread.
  explicit PortThreads(size_t count, const ev::LoopOptions& options = {},
                       const std::string& prefix = "uvs-fwd");
  ~PortThreads();  ///< stops and joins
  PortThreads(const PortThreads&) = delete;
  PortThreads& operator=(const PortThreads&) = delete;

  /// Starts every thread (thread i pinned to cpus[i] when `cpus` has an entry for it) and
  /// returns once each loop is running, so control calls made afterwards hand work to the loops
  /// instead of running it inline. Returns false if a pinning failed (that thread runs unpinned,
  /// errno set).
  bool start(std::span<const int> cpus = {});
  /// Stops and joins every thread. Idempotent.
  void stop();

  size_t size() const { return threads_.size(); }
  ev::EventLoop& loop(size_t i) { return threads_[i]->loop(); }
  /// The thread's name (prefix + index), as top and perf show it.
  const std::string& name(size_t i) const { return threads_[i]->name(); }
  /// The loops in thread order, as Bridge's constructor takes them.
  std::span<ev::EventLoop* const> loops() const { return loops_; }

 private:
  std::vector<std::unique_ptr<ev::IoThread>> threads_;
  std::vector<ev::EventLoop*> loops_;
};

}  // namespace uvs::bridge
