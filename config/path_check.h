// SPDX-License-Identifier: MIT
// Path checks: whether a configured path can become a unix socket or an output file.
#pragma once

#include <string_view>

#include "config/result.h"

namespace uvs::config {

/// The longest path a sockaddr_un holds (sun_path is 108 bytes including the NUL).
inline constexpr size_t kMaxSocketPath = 107;

/// Checks that `path` can name a unix socket: non-empty, at most kMaxSocketPath bytes, and either
/// absent or already a socket (a stale socket is fine; the owner replaces it). Reads the file
/// system (lstat), nothing else. kBadPath with the reason otherwise ("exists and is not a
/// socket", "too long", "not a directory" ...).
Result<void> check_socket_path(std::string_view path);

/// Checks that `path` can be created as an output file (a capture): non-empty, not a directory,
/// and its directory exists. kBadPath otherwise. Reads the file system only.
Result<void> check_output_file(std::string_view path);

}  // namespace uvs::config
