// SPDX-License-Identifier: MIT
// libFuzzer target: StreamPort's length-prefixed framing, driven by a real peer on a unix socket.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "eventloop/event_loop.h"
#include "netback/host/stream_port.h"
#include "port/port.h"
#include "tests/fuzz/fuzz_reader.h"

using uvs::fuzz::FuzzReader;
using namespace uvs;
using netback::StreamPort;

namespace {

[[noreturn]] void fail() { __builtin_trap(); }

struct CopySink final : port::FrameSink {
  std::vector<std::vector<uint8_t>> frames;
  void receive_burst(port::Port&, std::span<const port::Frame> burst) noexcept override {
    for (const port::Frame& f : burst) {
      std::vector<uint8_t> b(f.len);
      if (f.copy_out(0, b.data(), f.len) != f.len) fail();
      frames.push_back(std::move(b));
    }
  }
};

struct Fixture {
  ev::EventLoop loop;
  CopySink sink;
  std::string path = "/tmp/uvs-fuzz-stream-" + std::to_string(getpid()) + ".sock";
  StreamPort port{loop, options(path)};

  static netback::StreamPortOptions options(const std::string& path) {
    netback::StreamPortOptions o;
    o.name = "fuzz";
    o.path = path;
    return o;
  }
  Fixture() {
    port.set_sink(&sink);
    if (!port.start()) fail();
  }
  void pump() {
    for (int i = 0; i < 64 && loop.run_once(false); ++i) {
    }
  }
};

// What the port must deliver for the bytes a peer wrote (QEMU net/stream.c framing): 4-byte
// big-endian length then the frame; 0 or above kMaxFrameLen ends the connection; 1..13 bytes
// are skipped.
struct Reference {
  std::vector<uint8_t> bytes;
  size_t off = 0;
  bool broken = false;
  std::vector<std::vector<uint8_t>> frames;
  void parse() {
    while (!broken && bytes.size() - off >= 4) {
      const uint32_t len = uint32_t(bytes[off]) << 24 | uint32_t(bytes[off + 1]) << 16 |
                           uint32_t(bytes[off + 2]) << 8 | bytes[off + 3];
      if (len == 0 || len > port::kMaxFrameLen) {
        broken = true;
        return;
      }
      if (bytes.size() - off - 4 < len) return;
      if (len >= port::kMinFrameLen) {
        frames.emplace_back(bytes.begin() + long(off + 4), bytes.begin() + long(off + 4 + len));
      }
      off += 4 + len;
    }
  }
};

}  // namespace

// Input: operations, each one byte then operands:
//   0: the peer writes u16 length % 4096 bytes taken from the input;
//   1: the peer writes a length prefix u32 (big-endian, from the input);
//   2: the peer writes u16 * 16 copies of one byte (large frames from small inputs);
//   3: send_burst of u8 % 8 frames of u16 % 2048 bytes each; the peer reads them back.
// The loop runs after each. At the end the peer leaves; the port must have delivered exactly
// what the reference framing says and must take the next peer.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fx = new Fixture;
  fx->sink.frames.clear();
  const uint64_t errors_before = fx->port.stats().protocol_errors;

  int peer = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", fx->path.c_str());
  if (peer < 0 || connect(peer, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) fail();
  for (int i = 0; i < 16 && !fx->port.connected(); ++i) fx->pump();
  if (!fx->port.connected()) fail();

  Reference ref;
  std::vector<uint8_t> expect_out;  // what send_burst framed for the peer
  std::vector<uint8_t> got_out;
  auto peer_write = [&](const uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t w = send(peer, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0) {
        if (errno == EAGAIN) {
          fx->pump();
          if (!fx->port.connected()) return;
          continue;
        }
        return;  // the port dropped us (EPIPE/ECONNRESET)
      }
      ref.bytes.insert(ref.bytes.end(), p, p + w);
      p += w;
      n -= size_t(w);
    }
  };
  auto peer_read = [&] {
    uint8_t buf[65536];
    for (;;) {
      ssize_t r = recv(peer, buf, sizeof buf, MSG_DONTWAIT);
      if (r <= 0) return;
      got_out.insert(got_out.end(), buf, buf + r);
    }
  };

  FuzzReader r{data, size};
  std::vector<uint8_t> scratch;
  for (int ops = 0; r.n > 0 && ops < 64; ++ops) {
    switch (r.u8() & 3) {
      case 0: {
        size_t n = r.u16() % 4096;
        if (n > r.n) n = r.n;
        peer_write(r.p, n);
        r.p += n;
        r.n -= n;
        break;
      }
      case 1: {
        uint8_t prefix[4] = {r.u8(), r.u8(), r.u8(), r.u8()};
        peer_write(prefix, 4);
        break;
      }
      case 2: {
        scratch.assign(size_t(r.u16()) * 16, r.u8());
        peer_write(scratch.data(), scratch.size());
        break;
      }
      case 3: {
        const int k = r.u8() % 8;
        std::vector<std::vector<uint8_t>> frames;
        std::vector<iovec> iov(static_cast<size_t>(k));
        std::vector<port::Frame> burst;
        for (int i = 0; i < k; ++i) {
          frames.emplace_back(r.u16() % 2048, uint8_t(i + 1));
          iov[size_t(i)] = iovec{frames.back().data(), frames.back().size()};
        }
        for (int i = 0; i < k; ++i) {
          burst.push_back(port::Frame{&iov[size_t(i)], 1, uint32_t(frames[size_t(i)].size())});
        }
        const bool up = fx->port.connected();
        const size_t taken = fx->port.send_burst(burst);
        if (taken > size_t(k) || (!up && taken != 0)) fail();
        for (size_t i = 0; i < taken; ++i) {
          const size_t len = frames[i].size();
          if (len < port::kMinFrameLen) continue;  // taken and dropped, never sent
          const uint8_t p[4] = {0, 0, uint8_t(len >> 8), uint8_t(len)};
          expect_out.insert(expect_out.end(), p, p + 4);
          expect_out.insert(expect_out.end(), frames[i].begin(), frames[i].end());
        }
        for (int i = 0; i < 8; ++i) {
          fx->pump();
          peer_read();
        }
        break;
      }
    }
    fx->pump();
  }
  for (int i = 0; i < 8; ++i) {
    fx->pump();
    peer_read();
  }
  ref.parse();
  if (fx->sink.frames != ref.frames) fail();
  if (ref.broken != (fx->port.stats().protocol_errors != errors_before)) fail();
  // Bytes the port framed reached the peer in order, unless the connection was dropped first.
  if (got_out.size() > expect_out.size() ||
      (!got_out.empty() &&
       std::memcmp(got_out.data(), expect_out.data(), got_out.size()) != 0)) {
    fail();
  }
  if (!ref.broken && got_out.size() != expect_out.size()) fail();
  close(peer);
  for (int i = 0; i < 16 && fx->port.connected(); ++i) fx->pump();
  if (fx->port.connected()) fail();
  return 0;
}
