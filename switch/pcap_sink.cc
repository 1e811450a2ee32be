// SPDX-License-Identifier: MIT
// PcapSink: libpcap dump handles, file rotation by renaming, and write-error reporting.
#include "switch/pcap_sink.h"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace uvs::bridge {
namespace {

constexpr uint64_t kFileHeader = 24;    // pcap global header
constexpr uint64_t kRecordHeader = 16;  // per-frame header in the file

// A reader that stops reading but keeps its end open (a paused `tshark -r -`) must not hold
// the writer thread, or capture-stop, which joins that thread, forever. The stream's fd is
// non-blocking; a full pipe is waited on in short polls that watch the capture's stop flag,
// and once a stop is asked for the reader gets kStopGrace to catch up before the write fails.
constexpr auto kStopGrace = std::chrono::seconds(1);
constexpr int kPollMs = 50;

struct StreamCookie {
  int fd;
  const std::atomic<bool>* stop;
  bool gave_up = false;  // later writes fail at once: one grace per capture, not per buffer
};

ssize_t stream_write(void* cookie, const char* buf, size_t size) {
  auto* c = static_cast<StreamCookie*>(cookie);
  if (c->gave_up) {
    errno = ETIMEDOUT;
    return -1;
  }
  size_t done = 0;
  std::chrono::steady_clock::time_point give_up{};
  while (done < size) {
    const ssize_t n = ::write(c->fd, buf + done, size - done);
    if (n > 0) {
      done += size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return done ? ssize_t(done) : -1;
    if (c->stop && c->stop->load(std::memory_order_acquire)) {
      const auto now = std::chrono::steady_clock::now();
      if (give_up == std::chrono::steady_clock::time_point{}) give_up = now + kStopGrace;
      if (now >= give_up) {
        c->gave_up = true;
        errno = ETIMEDOUT;
        return done ? ssize_t(done) : -1;
      }
    }
    pollfd p{c->fd, POLLOUT, 0};
    ::poll(&p, 1, kPollMs);
  }
  return ssize_t(done);
}

int stream_close(void* cookie) {
  auto* c = static_cast<StreamCookie*>(cookie);
  const int rc = ::close(c->fd);
  delete c;
  return rc;
}

const char* file_kind(mode_t m) {
  if (S_ISFIFO(m)) return "a fifo";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISDIR(m)) return "a directory";
  return "not a regular file";
}

}  // namespace

FILE* open_capture_file(const std::string& path, unsigned mode, std::string* error) {
  // A root daemon writing to a shared directory such as /tmp must not be steered by whoever
  // can create names there: no symlinks followed (O_NOFOLLOW), no fifo/device opened for
  // writing (O_NONBLOCK keeps a fifo from blocking the open; the type is checked before
  // anything is truncated), no file of another user or with other links reused, and nothing
  // created readable by others unless asked (mode, applied past the umask with fchmod).
  const int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  const int fd = ::open(path.c_str(), flags, mode & 07777);
  if (fd < 0) {
    const int e = errno;
    if (e == ELOOP) {
      *error = "cannot open " + path + ": it is a symbolic link (captures do not follow links)";
    } else if (e == ENXIO) {
      *error = "cannot open " + path + ": it is not a regular file (a fifo or socket)";
    } else {
      *error = "cannot open " + path + ": " + std::strerror(e);
    }
    return nullptr;
  }
  struct stat st {};
  auto fail = [&](const std::string& why) -> FILE* {
    *error = "cannot open " + path + ": " + why;
    ::close(fd);
    return nullptr;
  };
  if (::fstat(fd, &st) != 0) return fail(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return fail(std::string("it is ") + file_kind(st.st_mode));
  if (st.st_uid != ::geteuid()) {
    return fail("it belongs to uid " + std::to_string(st.st_uid) +
                ", not to this process (remove it first)");
  }
  if (st.st_nlink > 1) return fail("it has other hard links (remove it first)");
  if (::ftruncate(fd, 0) != 0 || ::fchmod(fd, mode & 07777) != 0 ||
      ::fcntl(fd, F_SETFL, O_WRONLY) != 0) {
    return fail(std::strerror(errno));
  }
  FILE* f = ::fdopen(fd, "wb");
  if (!f) return fail(std::strerror(errno));
  return f;
}

PcapSink::~PcapSink() { close(); }

bool PcapSink::start(FILE* f, std::string* error) {
  // A dead handle is all pcap_dump needs: it supplies the link type, snaplen and the
  // timestamp precision that selects the nanosecond magic number.
  if (!dead_) {
    dead_ = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, int(snaplen_),
                                                 PCAP_TSTAMP_PRECISION_NANO);
    if (!dead_) {
      std::fclose(f);
      *error = "libpcap: cannot create a dump handle";
      return false;
    }
  }
  dumper_ = pcap_dump_fopen(dead_, f);
  if (!dumper_) {
    *error = std::string("libpcap: ") + pcap_geterr(dead_);
    std::fclose(f);
    return false;
  }
  cur_bytes_ = kFileHeader;
  cur_frames_ = 0;
  if (!path_.empty()) ++files_;
  return true;
}

std::unique_ptr<PcapSink> PcapSink::open_file(const std::string& path, uint32_t snaplen,
                                              uint64_t max_bytes, unsigned max_files,
                                              std::string* error, unsigned mode) {
  std::unique_ptr<PcapSink> s(new PcapSink());
  s->path_ = path;
  s->snaplen_ = snaplen;
  s->max_bytes_ = max_bytes;
  s->max_files_ = max_files;
  s->mode_ = mode;
  FILE* f = open_capture_file(path, mode, error);
  if (!f) return nullptr;
  if (!s->start(f, error)) return nullptr;
  // Write the header now so even a capture that sees no frame leaves a valid file.
  if (!s->flush()) {
    *error = "cannot write " + path + ": " + s->error_;
    return nullptr;
  }
  return s;
}

std::unique_ptr<PcapSink> PcapSink::open_fd(int fd, uint32_t snaplen,
                                            const std::atomic<bool>* stop, std::string* error) {
  std::unique_ptr<PcapSink> s(new PcapSink());
  s->snaplen_ = snaplen;
  const int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    *error = std::string("cannot stream to the passed descriptor: ") + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  auto* cookie = new StreamCookie{fd, stop};
  FILE* f = fopencookie(cookie, "wb", cookie_io_functions_t{nullptr, stream_write, nullptr,
                                                             stream_close});
  if (!f) {
    *error = std::string("cannot stream to the passed descriptor: ") + std::strerror(errno);
    delete cookie;
    ::close(fd);
    return nullptr;
  }
  if (!s->start(f, error)) return nullptr;
  if (!s->flush()) {
    *error = "cannot write the stream: " + s->error_;
    return nullptr;
  }
  return s;
}

bool PcapSink::rotate() {
  pcap_dump_close(dumper_);
  dumper_ = nullptr;
  // Shift FILE.k -> FILE.k+1 from the oldest down, so no rename overwrites a file still needed.
  uint64_t keep = kept_ + 1;  // rotated files after this rotation
  if (max_files_ && keep > max_files_ - 1) keep = max_files_ - 1;
  for (uint64_t k = kept_; k >= 1; --k) {
    const std::string from = path_ + "." + std::to_string(k);
    if (k + 1 > keep) {
      ::unlink(from.c_str());
    } else {
      ::rename(from.c_str(), (path_ + "." + std::to_string(k + 1)).c_str());
    }
  }
  if (keep >= 1) {
    ::rename(path_.c_str(), (path_ + ".1").c_str());
  } else {
    ::unlink(path_.c_str());  // max-files=1: only the current file is kept
  }
  kept_ = keep;
  std::string err;
  FILE* f = open_capture_file(path_, mode_, &err);
  if (!f) {
    error_ = err;
    return false;
  }
  if (!start(f, &err)) {
    error_ = err;
    return false;
  }
  return true;
}

bool PcapSink::write(int64_t ts_ns, uint32_t caplen, uint32_t len, const uint8_t* data) {
  if (!dumper_) return false;
  const uint64_t rec = kRecordHeader + caplen;
  if (max_bytes_ && cur_frames_ > 0 && cur_bytes_ + rec > max_bytes_ && !rotate()) return false;
  pcap_pkthdr h{};
  h.ts.tv_sec = time_t(ts_ns / 1'000'000'000);
  // With the nanosecond precision the "usec" field carries nanoseconds (pcap_dump writes it as
  // the fraction field of the nanosecond format).
  h.ts.tv_usec = suseconds_t(ts_ns % 1'000'000'000);
  h.caplen = caplen;
  h.len = len;
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, data);
  cur_bytes_ += rec;
  ++cur_frames_;
  return true;
}

bool PcapSink::flush() {
  if (!dumper_) return false;
  if (pcap_dump_flush(dumper_) != 0 || std::ferror(pcap_dump_file(dumper_))) {
    if (error_.empty()) error_ = std::strerror(errno ? errno : EIO);
    return false;
  }
  return true;
}

void PcapSink::close() {
  if (dumper_) {
    pcap_dump_close(dumper_);  // flushes and fcloses
    dumper_ = nullptr;
  }
  if (dead_) {
    pcap_close(dead_);
    dead_ = nullptr;
  }
}

}  // namespace uvs::bridge
