// SPDX-License-Identifier: MIT
// Socket and output-file path checks, done at config time so a bad path fails before start-up.
#include "config/path_check.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace uvs::config {
namespace {

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

}  // namespace

Result<void> check_socket_path(std::string_view path) {
  if (path.empty()) return Error::make(ConfigError::kBadPath, "empty socket path");
  if (path.find('\0') != std::string_view::npos) {
    return Error::make(ConfigError::kBadPath, "socket path contains a NUL byte");
  }
  if (path.size() > kMaxSocketPath) {
    return Error::make(ConfigError::kBadPath, quoted(path) + " is too long for a unix socket (" +
                                                  std::to_string(path.size()) + " bytes, at most " +
                                                  std::to_string(kMaxSocketPath) + ")");
  }
  std::string p(path);
  struct stat st {};
  if (lstat(p.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      const char* what = S_ISDIR(st.st_mode) ? "a directory" : "not a socket";
      return Error::make(ConfigError::kBadPath, quoted(path) + " exists and is " + what +
                                                    " (refusing to replace it with a socket)");
    }
    return {};
  }
  // ENOENT is the normal case: the socket does not exist yet. EACCES means we cannot look; the
  // bind() at start-up will report it with its own errno.
  if (errno == ENOENT || errno == EACCES) return {};
  return Error::make(ConfigError::kBadPath, quoted(path) + ": " + std::strerror(errno));
}

Result<void> check_output_file(std::string_view path) {
  if (path.empty()) return Error::make(ConfigError::kBadPath, "empty file name");
  std::string p(path);
  struct stat st {};
  if (stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Error::make(ConfigError::kBadPath, quoted(path) + " is a directory");
  }
  size_t slash = p.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
  if (stat(dir.c_str(), &st) != 0) {
    return Error::make(ConfigError::kBadPath,
                       quoted(path) + ": directory " + quoted(dir) + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error::make(ConfigError::kBadPath,
                       quoted(path) + ": " + quoted(dir) + " is not a directory");
  }
  return {};
}

}  // namespace uvs::config
