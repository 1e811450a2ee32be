// SPDX-License-Identifier: MIT
// Callback: a non-owning function pointer plus context, the loop's allocation-free way to call
// back.
#pragma once

#include <utility>

namespace uvs::ev {

/// A plain (function, context) pair. Calling it costs one indirect call and it never allocates,
/// which is why timers and bottom halves take it instead of std::function.
struct Callback {
  void (*fn)(void*) = nullptr;
  void* ctx = nullptr;

  void operator()() const { fn(ctx); }
  explicit operator bool() const { return fn != nullptr; }

  /// Calls `obj->*M()`; the object must outlive every use of the callback.
  template <auto M, typename T>
  static Callback bind(T* obj) {
    return Callback{[](void* c) { (static_cast<T*>(c)->*M)(); }, obj};
  }

  /// Calls a callable object (e.g. a lambda held in a variable); `f` must outlive the callback.
  template <typename F>
  static Callback ref(F& f) {
    return Callback{[](void* c) { (*static_cast<F*>(c))(); }, &f};
  }
};

}  // namespace uvs::ev
