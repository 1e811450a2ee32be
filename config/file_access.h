// SPDX-License-Identifier: MIT
// File access values: octal modes, groups and USER[:GROUP] of the files and sockets we create.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "config/result.h"

namespace uvs::config {

/// An octal permission mode such as "0660" or "660": 1..4 octal digits, at most 0777 (no
/// setuid, setgid or sticky bits on a socket or capture). kBadValue otherwise.
Result<unsigned> parse_file_mode(std::string_view text);

/// "0660" for `mode` (the canonical text parse_file_mode() reads back).
std::string file_mode_text(unsigned mode);

/// A group, by name or by decimal gid.
struct GroupRef {
  std::string name;  ///< as given (a name or the decimal gid)
  gid_t gid = 0;
  bool operator==(const GroupRef&) const = default;
};

/// Resolves a group name (getgrnam) or a decimal gid. kBadValue names the value when there is
/// no such group. Reads the group database: start-up and control path only.
Result<GroupRef> parse_group(std::string_view text);

/// The identity --user switches to: a user and its primary group, or the group given.
struct UserRef {
  std::string text;  ///< as given ("nobody", "nobody:nogroup", "65534")
  uid_t uid = 0;
  gid_t gid = 0;
  bool operator==(const UserRef&) const = default;
};

/// Parses USER[:GROUP] (names or decimal ids) and resolves it; without GROUP, the user's
/// primary group. kBadValue names the part that does not exist.
Result<UserRef> parse_user(std::string_view text);

}  // namespace uvs::config
