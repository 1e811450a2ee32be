// SPDX-License-Identifier: MIT
// BhNode: a bottom half's shared state, pushed onto a loop's lock-free list by any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

#include "eventloop/callback.h"

namespace uvs::ev {

/// Flag bits, QEMU's scheme: PENDING means "on the loop's list" (so a second schedule() only sets
/// a bit), SCHEDULED means "run it", DELETED means "its owner is gone: free when dequeued".
enum BhFlag : uint32_t {
  kBhPending = 1u << 0,
  kBhScheduled = 1u << 1,
  kBhDeleted = 1u << 2,
  kBhOneShot = 1u << 3,
};

struct BhNode {
  std::atomic<uint32_t> flags{0};
  BhNode* next = nullptr;
  Callback cb;
};

/// A run_in_loop() closure: allocated by the caller's thread, freed by the loop after it runs.
struct OneShotBh : BhNode {
  std::function<void()> fn;
};

/// Frees a node the loop owns now (a one-shot that ran, or a bottom half whose owner left).
inline void free_bh_node(BhNode* node, uint32_t flags) {
  if (flags & kBhOneShot) {
    delete static_cast<OneShotBh*>(node);
  } else {
    delete node;
  }
}

}  // namespace uvs::ev
