// SPDX-License-Identifier: MIT
// TempDir: a scratch directory for config tests that need real files and sockets; removed after.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace uvs::config::test {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/uvs-config-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  /// Creates a regular file `name` with `text`; returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
    return file(name);
  }
  /// Creates a unix socket file `name` (bound, then closed: a stale socket); returns its path.
  std::string make_socket(const std::string& name) const {
    std::string p = file(name);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, p.c_str(), sizeof sa.sun_path - 1);
    (void)bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    close(fd);
    return p;
  }

 private:
  std::string path_;
};

}  // namespace uvs::config::test
