// SPDX-License-Identifier: MIT
// FnHandler: an FdHandler made of std::functions, for control-path fds and tests.
#pragma once

#include <functional>
#include <utility>

#include "eventloop/fd_handler.h"

namespace uvs::ev {

/// Adapts lambdas to FdHandler. Not for the data path (std::function per call); fine for the
/// control socket, signal fds and tests.
class FnHandler final : public FdHandler {
 public:
  std::function<void()> read;
  std::function<void()> write;
  std::function<bool()> poll_fn;  ///< set to make the handler pollable
  std::function<void()> ready;
  std::function<void()> begin;
  std::function<void()> end;

  void on_readable() override {
    if (read) read();
  }
  void on_writable() override {
    if (write) write();
  }
  bool can_poll() const override { return static_cast<bool>(poll_fn); }
  bool poll() override { return poll_fn(); }
  void poll_ready() override {
    if (ready) ready();
  }
  void poll_begin() override {
    if (begin) begin();
  }
  void poll_end() override {
    if (end) end();
  }
};

}  // namespace uvs::ev
