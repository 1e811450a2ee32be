// SPDX-License-Identifier: MIT
// FrontendError, Status and Result: how the test frontend reports set-up and protocol failures.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace uvs::frontend {

/// Why a frontend operation failed. Every value has a readable name (error_name()).
enum class FrontendError {
  kOk,
  kMemory,          ///< memfd_create / ftruncate / mmap failed, or guest memory exhausted
  kSocket,          ///< socket / connect / bind / listen / accept failed
  kTimeout,         ///< the backend did not answer (or connect) in time
  kPeerClosed,      ///< the backend closed the connection
  kSendFailed,      ///< sendmsg failed
  kBadReply,        ///< a reply with the wrong request id, flags or size
  kNack,            ///< REPLY_ACK carried a non-zero status
  kFeatures,        ///< the backend lacks a feature the options require
  kInvalidArgument, ///< a caller error (bad option, queue out of range, call in the wrong state)
  kNotConnected,
};

/// Readable name of an error ("peer closed the connection", ...). Never returns nullptr.
const char* error_name(FrontendError e) noexcept;

/// Outcome of a control-path call: kOk, or an error with errno (0 if none) and a message.
struct Status {
  FrontendError code = FrontendError::kOk;
  int err = 0;
  std::string message;

  /// True for success.
  bool ok() const noexcept { return code == FrontendError::kOk; }
  /// Same as ok().
  explicit operator bool() const noexcept { return ok(); }

  /// "what: error name: strerror(errno)"; "ok" for success.
  std::string to_string() const;

  /// The success value.
  static Status success() { return {}; }
  /// Builds a failure; `err` is an errno value or 0.
  static Status fail(FrontendError code, std::string message, int err = 0) {
    return Status{code, err, std::move(message)};
  }
};

/// A value or the Status saying why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit, like std::expected
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  /// True when a value is held.
  bool ok() const noexcept { return value_.has_value(); }
  /// Same as ok().
  explicit operator bool() const noexcept { return ok(); }
  /// The value; only when ok().
  T& value() { return *value_; }
  /// The value; only when ok().
  const T& value() const { return *value_; }
  /// Member access to the value; only when ok().
  T* operator->() { return &*value_; }
  /// Why there is no value (success when ok()).
  const Status& status() const { return status_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace uvs::frontend
