// SPDX-License-Identifier: MIT
// PcapSink: nanosecond pcap that libpcap and tshark read back, rotation naming and limits, a
// stream over a pipe, and a clear error for a path that cannot be created.
#include "switch/pcap_sink.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "tests/capture/pcap_reader.h"

using uvs::bridge::PcapSink;
using namespace uvs::bridge::test;

namespace {

constexpr uint32_t kLen = 100;

std::vector<uint8_t> payload(uint32_t i) {
  std::vector<uint8_t> d(kLen);
  for (uint32_t k = 0; k < kLen; ++k) d[k] = uint8_t(i * 3 + k);
  return d;
}

void write_n(PcapSink& s, uint32_t first, uint32_t n) {
  for (uint32_t i = first; i < first + n; ++i) {
    auto d = payload(i);
    REQUIRE(s.write(1'700'000'000'000'000'000 + int64_t(i) * 1001, kLen, kLen + 20, d.data()));
  }
  REQUIRE(s.flush());
}

// The sequence numbers in a file, recovered from the timestamps.
std::vector<uint32_t> seqs(const PcapFile& f) {
  std::vector<uint32_t> out;
  for (const auto& fr : f.frames) out.push_back(uint32_t((fr.ts_ns - 1'700'000'000'000'000'000) / 1001));
  return out;
}

}  // namespace

TEST_CASE("frames come back with nanosecond timestamps, lengths and bytes") {
  TempDir dir;
  std::string err;
  auto s = PcapSink::open_file(dir.file("a.pcap"), 65535, 0, 0, &err);
  REQUIRE_MESSAGE(s, err);
  write_n(*s, 0, 5);
  s->close();
  PcapFile f = read_pcap(dir.file("a.pcap"));
  REQUIRE_MESSAGE(f.ok, f.error);
  CHECK(f.linktype == DLT_EN10MB);
  CHECK(f.nano);
  REQUIRE(f.frames.size() == 5);
  for (uint32_t i = 0; i < 5; ++i) {
    CHECK(f.frames[i].ts_ns == 1'700'000'000'000'000'000 + int64_t(i) * 1001);
    CHECK(f.frames[i].caplen == kLen);
    CHECK(f.frames[i].len == kLen + 20);
    CHECK(f.frames[i].data == payload(i));
  }
  // tshark, the tool users open these with, agrees.
  FILE* p = popen(("tshark -r " + dir.file("a.pcap") + " 2>/dev/null | wc -l").c_str(), "r");
  REQUIRE(p);
  int lines = -1;
  CHECK(fscanf(p, "%d", &lines) == 1);
  pclose(p);
  CHECK(lines == 5);
}

TEST_CASE("an empty capture is still a valid file") {
  TempDir dir;
  std::string err;
  auto s = PcapSink::open_file(dir.file("e.pcap"), 128, 0, 0, &err);
  REQUIRE(s);
  s->close();
  PcapFile f = read_pcap(dir.file("e.pcap"));
  CHECK_MESSAGE(f.ok, f.error);
  CHECK(f.frames.empty());
}

TEST_CASE("rotation keeps FILE newest and FILE.N oldest, at most max-files") {
  TempDir dir;
  std::string err;
  // Header 24 + 3 records of 16 + 100: three frames per file.
  const uint64_t max = 24 + 3 * (16 + kLen);
  SUBCASE("max-files=3 keeps three files") {
    auto s = PcapSink::open_file(dir.file("r.pcap"), 65535, max, 3, &err);
    REQUIRE(s);
    write_n(*s, 0, 10);  // files: [0-2] [3-5] [6-8] [9]
    CHECK(s->files() == 4);
    s->close();
    CHECK(seqs(read_pcap(dir.file("r.pcap"))) == std::vector<uint32_t>{9});
    CHECK(seqs(read_pcap(dir.file("r.pcap.1"))) == std::vector<uint32_t>{6, 7, 8});
    CHECK(seqs(read_pcap(dir.file("r.pcap.2"))) == std::vector<uint32_t>{3, 4, 5});
    CHECK_FALSE(std::filesystem::exists(dir.file("r.pcap.3")));
    CHECK(std::filesystem::file_size(dir.file("r.pcap.1")) == max);
  }
  SUBCASE("no max-files keeps every file") {
    auto s = PcapSink::open_file(dir.file("r.pcap"), 65535, max, 0, &err);
    REQUIRE(s);
    write_n(*s, 0, 10);
    s->close();
    CHECK(seqs(read_pcap(dir.file("r.pcap.3"))) == std::vector<uint32_t>{0, 1, 2});
    CHECK(seqs(read_pcap(dir.file("r.pcap"))) == std::vector<uint32_t>{9});
  }
  SUBCASE("max-files=1 keeps only the current file") {
    auto s = PcapSink::open_file(dir.file("r.pcap"), 65535, max, 1, &err);
    REQUIRE(s);
    write_n(*s, 0, 7);
    s->close();
    CHECK(seqs(read_pcap(dir.file("r.pcap"))) == std::vector<uint32_t>{6});
    CHECK_FALSE(std::filesystem::exists(dir.file("r.pcap.1")));
  }
}

TEST_CASE("a stream over a pipe is readable, and a vanished reader is an error") {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  std::string err;
  std::atomic<bool> stop{false};
  auto s = PcapSink::open_fd(fds[1], 65535, &stop, &err);
  REQUIRE_MESSAGE(s, err);
  CHECK(s->is_stream());
  SUBCASE("readable") {
    write_n(*s, 0, 4);
    s->close();
    FILE* in = fdopen(fds[0], "rb");
    char e[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_fopen_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_NANO, e);
    REQUIRE_MESSAGE(p, e);
    int n = 0;
    pcap_pkthdr* h;
    const u_char* d;
    while (pcap_next_ex(p, &h, &d) == 1) ++n;
    pcap_close(p);  // closes `in`
    CHECK(n == 4);
  }
  SUBCASE("reader gone") {
    ::close(fds[0]);
    std::signal(SIGPIPE, SIG_IGN);
    auto d = payload(0);
    s->write(0, kLen, kLen, d.data());
    CHECK_FALSE(s->flush());
    CHECK(s->error().find("pipe") != std::string::npos);
  }
  SUBCASE("a reader that stops reading holds the writer only until a stop") {
    // 2000 frames are far more than a pipe holds (64 KiB); nobody reads fds[0].
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      stop.store(true);
    });
    const auto t0 = std::chrono::steady_clock::now();
    auto d = payload(0);
    for (int i = 0; i < 2000; ++i) s->write(i, kLen, kLen, d.data());
    CHECK_FALSE(s->flush());
    const auto waited = std::chrono::steady_clock::now() - t0;
    stopper.join();
    // The stop after 200 ms plus the 1 s grace, with slack for a loaded machine; without the
    // stop this would block forever.
    CHECK(waited < std::chrono::seconds(10));
    s->close();
    ::close(fds[0]);
  }
}

TEST_CASE("a file that cannot be created is refused with its path") {
  std::string err;
  auto s = PcapSink::open_file("/proc/uvs-no-such.pcap", 65535, 0, 0, &err);
  CHECK_FALSE(s);
  CHECK(err.find("cannot open /proc/uvs-no-such.pcap") != std::string::npos);
}

TEST_CASE("capture files: symlinks, fifos and others' files are refused; new files are 0600") {
  TempDir dir;
  std::string err;
  const mode_t old_umask = ::umask(0);  // the mode must not depend on the umask
  {
    auto s = PcapSink::open_file(dir.file("new.pcap"), 65535, 0, 0, &err);
    REQUIRE_MESSAGE(s, err);
    struct stat st {};
    REQUIRE(::stat(dir.file("new.pcap").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
  }
  {
    auto s = PcapSink::open_file(dir.file("grp.pcap"), 65535, 0, 0, &err, 0640);
    REQUIRE_MESSAGE(s, err);
    struct stat st {};
    REQUIRE(::stat(dir.file("grp.pcap").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
  }
  ::umask(old_umask);

  // A link planted where the capture goes: the target is neither followed nor truncated.
  const std::string victim = dir.file("victim");
  { FILE* f = std::fopen(victim.c_str(), "w"); std::fputs("keep me", f); std::fclose(f); }
  REQUIRE(::symlink(victim.c_str(), dir.file("link.pcap").c_str()) == 0);
  err.clear();
  CHECK_FALSE(PcapSink::open_file(dir.file("link.pcap"), 65535, 0, 0, &err));
  CHECK(err.find("is a symbolic link") != std::string::npos);
  CHECK(std::filesystem::file_size(victim) == 7);

  // A fifo (no reader): refused at once instead of blocking the open.
  REQUIRE(::mkfifo(dir.file("fifo.pcap").c_str(), 0600) == 0);
  err.clear();
  CHECK_FALSE(PcapSink::open_file(dir.file("fifo.pcap"), 65535, 0, 0, &err));
  CHECK(err.find("not a regular file") != std::string::npos);
  // ... and with a reader present, still refused by type.
  const int rd = ::open(dir.file("fifo.pcap").c_str(), O_RDONLY | O_NONBLOCK);
  REQUIRE(rd >= 0);
  err.clear();
  CHECK_FALSE(PcapSink::open_file(dir.file("fifo.pcap"), 65535, 0, 0, &err));
  CHECK(err.find("it is a fifo") != std::string::npos);
  ::close(rd);

  // A hard link to another file would make the capture overwrite that file.
  REQUIRE(::link(victim.c_str(), dir.file("hard.pcap").c_str()) == 0);
  err.clear();
  CHECK_FALSE(PcapSink::open_file(dir.file("hard.pcap"), 65535, 0, 0, &err));
  CHECK(err.find("other hard links") != std::string::npos);
  CHECK(std::filesystem::file_size(victim) == 7);

  // Someone else's file (only testable as root, who can make one).
  if (::geteuid() == 0) {
    const std::string theirs = dir.file("theirs.pcap");
    { FILE* f = std::fopen(theirs.c_str(), "w"); std::fputs("theirs", f); std::fclose(f); }
    REQUIRE(::chown(theirs.c_str(), 65534, 65534) == 0);
    err.clear();
    CHECK_FALSE(PcapSink::open_file(theirs, 65535, 0, 0, &err));
    CHECK(err.find("belongs to uid 65534") != std::string::npos);
    CHECK(std::filesystem::file_size(theirs) == 6);
  }
}
