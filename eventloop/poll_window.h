// SPDX-License-Identifier: MIT
// PollWindow: one handler's adaptive busy-poll duration, grown and shrunk as QEMU's aio-posix does.
#pragma once

#include <cstdint>

namespace uvs::ev {

/// The polling tunables a window adapts within.
struct PollParams {
  int64_t max_ns = 32768;
  int64_t grow = 2;
  int64_t shrink = 2;
};

/// How long the loop may busy-poll on behalf of one handler before blocking.
///
/// `block_ns` is how long an iteration waited for this handler's event, busy-polling included
/// but the handlers' own run time excluded (as in QEMU's "aio-posix: split poll check from ready
/// handler"): a slow handler must not look like a long wait and switch polling off.
class PollWindow {
 public:
  /// The first non-zero window; QEMU starts at 4 µs as well, small enough to be cheap when wrong.
  static constexpr int64_t kInitialNs = 4000;

  int64_t ns() const { return ns_; }
  void reset() { ns_ = 0; }

  /// The handler had an event after waiting `block_ns`. Keep the window if polling would have
  /// caught it; shrink if even the maximum would not have; otherwise grow toward the maximum.
  void on_event(int64_t block_ns, const PollParams& p);
  /// The loop waited `block_ns` and this handler had no event at all: if that wait exceeded the
  /// maximum window, polling for this handler was wasted, so shrink.
  void on_idle(int64_t block_ns, const PollParams& p);
  /// Clamps to a (possibly lowered) maximum.
  void clamp(const PollParams& p);

 private:
  void shrink(const PollParams& p);
  int64_t ns_ = 0;
};

}  // namespace uvs::ev
