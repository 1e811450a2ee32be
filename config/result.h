// SPDX-License-Identifier: MIT
// Result<T>: a value or a config Error; config's start-up error channel (C++20 has no
// std::expected).
#pragma once

#include <cassert>
#include <optional>
#include <utility>
#include <variant>

#include "config/config_error.h"

namespace uvs::config {

/// Holds either a T or an Error. Reading the side that is not there is a bug (asserts).
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  /// True when a value is held. Any thread (plain data).
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  /// The value; asserts ok().
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; asserts !ok().
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

/// Success carrying nothing, or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(!ok());
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

}  // namespace uvs::config

/// Evaluates `expr` (a Result); on error returns the error from the enclosing function, otherwise
/// moves the value into `lhs` (a declaration like `auto x` or an existing lvalue).
#define UVS_CFG_CONCAT_INNER(a, b) a##b
#define UVS_CFG_CONCAT(a, b) UVS_CFG_CONCAT_INNER(a, b)
#define UVS_CFG_ASSIGN_OR_RETURN(lhs, expr) \
  UVS_CFG_ASSIGN_OR_RETURN_IMPL(UVS_CFG_CONCAT(uvs_cfg_r_, __LINE__), lhs, expr)
#define UVS_CFG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.error();                  \
  lhs = std::move(*tmp)

/// Evaluates `expr` (a Result<void> or any Result) and returns its error from the enclosing
/// function if it failed.
#define UVS_CFG_RETURN_IF_ERROR(expr)                \
  do {                                               \
    auto uvs_cfg_s_ = (expr);                        \
    if (!uvs_cfg_s_.ok()) return uvs_cfg_s_.error(); \
  } while (0)
