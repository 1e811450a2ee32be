// SPDX-License-Identifier: MIT
// PcapSink: a nanosecond pcap stream written with libpcap to rotating files or to a passed-in fd.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

struct pcap;
struct pcap_dumper;

namespace uvs::bridge {

/// Permissions of new capture files unless a capture asks for others: traffic is private.
inline constexpr unsigned kDefaultCaptureMode = 0600;

/// Opens `path` for a capture: created with `mode` (exactly, past the umask) or, when it exists,
/// reused only if it is a regular file of this process's euid with one link, then truncated.
/// Never follows a symlink and never opens a fifo, socket or device. Null with `*error`
/// ("cannot open PATH: it is a symbolic link ..."). Control path or the writer thread.
FILE* open_capture_file(const std::string& path, unsigned mode, std::string* error);

/// Writes frames as a pcap stream: link type Ethernet (DLT_EN10MB), nanosecond timestamps
/// (magic 0xa1b23c4d, what libpcap calls PCAP_TSTAMP_PRECISION_NANO).
///
/// Files rotate when `max_bytes` is set: before a frame would take the current file past it,
/// the file is closed and renamed FILE.1 (FILE.1 becomes FILE.2, ...), and a new FILE starts, so
/// FILE is always the newest and the highest number the oldest. With `max_files` N, at most N
/// files exist (FILE plus FILE.1 .. FILE.(N-1)); the oldest is deleted. A single frame larger
/// than max_bytes still goes into a file of its own.
///
/// Not thread-safe: one writer thread uses it (the opening happens on the control thread before
/// that thread starts).
class PcapSink {
 public:
  ~PcapSink();
  PcapSink(const PcapSink&) = delete;
  PcapSink& operator=(const PcapSink&) = delete;

  /// Creates (truncates) `path` with open_capture_file() and writes the pcap header; rotated
  /// files are opened the same way. max_bytes 0: never rotate; max_files 0: keep every rotated
  /// file. Null with `*error` ("cannot open PATH: reason").
  static std::unique_ptr<PcapSink> open_file(const std::string& path, uint32_t snaplen,
                                             uint64_t max_bytes, unsigned max_files,
                                             std::string* error,
                                             unsigned mode = kDefaultCaptureMode);
  /// Writes the stream to `fd` (a pipe or socket, e.g. uvswitchctl's stdout) and closes it at
  /// the end; takes ownership of `fd` even on failure. The fd is made non-blocking: a reader
  /// that stops reading holds writes only until `*stop` is set (plus a short grace), so a
  /// capture can always be stopped. `stop` may be null (no early end).
  static std::unique_ptr<PcapSink> open_fd(int fd, uint32_t snaplen,
                                           const std::atomic<bool>* stop, std::string* error);

  /// Appends one frame. False once writing failed (disk full, reader gone); error() says why.
  bool write(int64_t ts_ns, uint32_t caplen, uint32_t len, const uint8_t* data);
  /// Pushes buffered bytes to the file or stream so readers see whole frames. False on error.
  bool flush();
  /// Flushes and closes. Idempotent.
  void close();

  const std::string& error() const { return error_; }
  /// Files created so far (1 + rotations); 0 for a stream.
  uint64_t files() const { return files_; }
  bool is_stream() const { return path_.empty(); }

 private:
  PcapSink() = default;
  bool start(FILE* f, std::string* error);
  bool rotate();

  pcap* dead_ = nullptr;
  pcap_dumper* dumper_ = nullptr;
  std::string path_;  // empty for a stream
  uint32_t snaplen_ = 0;
  uint64_t max_bytes_ = 0;
  unsigned max_files_ = 0;
  unsigned mode_ = kDefaultCaptureMode;
  uint64_t cur_bytes_ = 0;   // bytes in the current file, pcap header included
  uint64_t cur_frames_ = 0;  // frames in the current file
  uint64_t kept_ = 0;        // rotated files that exist (FILE.1 .. FILE.kept_)
  uint64_t files_ = 0;
  std::string error_;
};

}  // namespace uvs::bridge
