// SPDX-License-Identifier: MIT
// Inherited-fd checks: whether an fd number given in a spec names an open stream socket.
#pragma once

#include <string_view>

#include "config/result.h"

namespace uvs::config {

/// Parses `text` as an fd number (0..INT_MAX) and checks that this process has it open and that
/// it is a stream socket (connected or listening), the way a launcher such as libvirt hands a
/// vhost-user socket to a backend program (vhost-user.rst "Backend program conventions").
/// kBadNumber / kOutOfRange for a bad number; kBadValue "fd N is not open" / "fd N is not a
/// socket" / "fd N is not a stream socket" otherwise. Reads fd state only (fcntl, getsockopt).
Result<int> parse_socket_fd(std::string_view text);

}  // namespace uvs::config
