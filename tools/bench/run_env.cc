// SPDX-License-Identifier: MIT
// Machine facts for benchmark reports (/proc readers) and the per-run scratch directory.
#include "tools/bench/run_env.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace uvs::bench {

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("model name", 0) == 0) {
      const size_t c = l.find(':');
      return c == std::string::npos || c + 2 > l.size() ? l : l.substr(c + 2);
    }
  }
  return "unknown";
}

std::string make_base_dir(const std::string& what) {
  std::string tmpl = "/tmp/uvs-bench-" + what + "-" + std::to_string(::getpid()) + ".XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return "";
  }
  return tmpl;
}

RunDir::RunDir(const std::string& base, int n) : path_(base + "/run-" + std::to_string(n)) {
  std::error_code ec;
  std::filesystem::create_directory(path_, ec);
}

RunDir::~RunDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace uvs::bench
