// SPDX-License-Identifier: MIT
// Parsing octal modes and resolving group and user names for the access keys and --user.
#include "config/file_access.h"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "config/value_parser.h"

namespace uvs::config {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// getgrnam_r/getpwnam_r with a buffer that grows on ERANGE (large groups).
template <typename T, typename F>
bool lookup(F&& fn, T* out) {
  std::vector<char> buf(4096);
  for (int tries = 0; tries < 8; ++tries) {
    T* res = nullptr;
    const int rc = fn(out, buf.data(), buf.size(), &res);
    if (rc == ERANGE) {
      buf.resize(buf.size() * 4);
      continue;
    }
    return rc == 0 && res != nullptr;
  }
  return false;
}

}  // namespace

Result<unsigned> parse_file_mode(std::string_view text) {
  auto bad = [&] {
    return Error::make(ConfigError::kBadValue,
                       "'" + std::string(text) + "' is not an octal mode of at most 0777 (e.g. 0660)");
  };
  if (text.empty() || text.size() > 4) return bad();
  unsigned v = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return bad();
    v = v * 8 + unsigned(c - '0');
  }
  if (v > 0777) return bad();
  return v;
}

std::string file_mode_text(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

Result<GroupRef> parse_group(std::string_view text) {
  const std::string s(text);
  group g{};
  if (all_digits(s)) {
    auto n = parse_uint(s, 0, 0xfffffffe);
    if (!n) return n.error();
    return GroupRef{s, gid_t(*n)};  // a numeric gid needs no entry in the group database
  }
  if (s.empty() || !lookup<group>([&](group* o, char* b, size_t l, group** r) {
        return getgrnam_r(s.c_str(), o, b, l, r);
      }, &g)) {
    return Error::make(ConfigError::kBadValue, "no group named '" + s + "'");
  }
  return GroupRef{s, g.gr_gid};
}

Result<UserRef> parse_user(std::string_view text) {
  const size_t colon = text.find(':');
  const std::string user(text.substr(0, colon));
  UserRef out;
  out.text = std::string(text);
  const bool numeric = all_digits(user);
  uid_t uid = 0;
  if (numeric) {
    auto n = parse_uint(user, 0, 0xfffffffe);
    if (!n) return n.error();
    uid = uid_t(*n);
  }
  passwd pw{};
  const bool found = !user.empty() && lookup<passwd>([&](passwd* o, char* b, size_t l, passwd** r) {
    return numeric ? getpwuid_r(uid, o, b, l, r) : getpwnam_r(user.c_str(), o, b, l, r);
  }, &pw);
  if (found) {
    out.uid = pw.pw_uid;
    out.gid = pw.pw_gid;
  } else if (numeric && colon != std::string_view::npos) {
    // A bare uid with an explicit group need not exist in the user database (containers).
    out.uid = uid;
  } else {
    return Error::make(ConfigError::kBadValue,
                       user.empty() ? "'" + out.text + "' names no user (USER[:GROUP])"
                                    : "no user named '" + user + "'");
  }
  if (colon != std::string_view::npos) {
    auto g = parse_group(text.substr(colon + 1));
    if (!g) return g.error();
    out.gid = g->gid;
  }
  return out;
}

}  // namespace uvs::config
