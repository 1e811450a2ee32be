// SPDX-License-Identifier: MIT
// Replays seed files through a fuzz target when libFuzzer is not linked (normal builds), so the
// targets are compiled and exercised by every test run.
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int run_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return 1;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 0;
}

}  // namespace

/// Usage: <target> FILE|DIR... : runs every file (directories: every regular file inside).
int main(int argc, char** argv) {
  int files = 0, rc = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      std::fprintf(stderr, "no such file: %s\n", argv[i]);
      return 1;
    }
    if (S_ISDIR(st.st_mode)) {
      DIR* d = opendir(argv[i]);
      while (dirent* e = readdir(d)) {
        std::string p = std::string(argv[i]) + "/" + e->d_name;
        if (stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
          rc |= run_file(p);
          ++files;
        }
      }
      closedir(d);
    } else {
      rc |= run_file(argv[i]);
      ++files;
    }
  }
  std::printf("replayed %d inputs\n", files);
  return files == 0 ? 1 : rc;
}
