// SPDX-License-Identifier: MIT
// BridgeError and Result: why a control operation on the bridge (add a port...) was refused.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace uvs::bridge {

/// Why the bridge refused a control request.
enum class BridgeError {
  kTooManyPorts,     ///< every port slot (BridgeOptions::max_ports) is in use
  kBadThread,        ///< thread index not below the number of forwarding threads
  kBadVlan,          ///< invalid VLAN settings (message says which)
  kAlreadyAttached,  ///< this Port object is attached already
  kDuplicateName,    ///< another attached port has this name
  kNoSuchPort,       ///< index or name not attached
  kTooManyCaptures,  ///< the port has CaptureTaps::kMax captures already
  kBadLanes,         ///< no lanes, too many, or two on one thread
  kNotSupported,     ///< the request cannot apply to this port (e.g. capture on several threads)
};

/// A stable lower-case name ("too-many-ports", ...). Never null.
const char* to_string(BridgeError e);

/// A refused request: the kind and a message naming the port.
struct Error {
  BridgeError code = BridgeError::kNoSuchPort;
  std::string message;
};

/// A T or an Error. Reading the side that is not there is a bug (asserts).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}    // NOLINT: implicit
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& operator*() const { return value(); }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

}  // namespace uvs::bridge
