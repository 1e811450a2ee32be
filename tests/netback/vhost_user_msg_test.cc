// SPDX-License-Identifier: MIT
// vhost-user message parsing: every size and fd-count rule, header checks, and the socket reader
// (partial messages, fds via SCM_RIGHTS, too many fds, EOF).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "netback/vhost/vhost_user_msg.h"

using namespace uvs::netback;
using vu::VhostUserRequest;
using R = VhostUserRequest;

namespace {

std::vector<uint8_t> make(R req, const void* payload, uint32_t size,
                          uint32_t flags = vu::kFlagVersion, uint32_t hdr_size = ~0u) {
  vu::VhostUserHeader h{static_cast<uint32_t>(req), flags, hdr_size == ~0u ? size : hdr_size};
  std::vector<uint8_t> b(sizeof h + size);
  std::memcpy(b.data(), &h, sizeof h);
  if (size) std::memcpy(b.data() + sizeof h, payload, size);
  return b;
}

MsgError parse(R req, const void* payload, uint32_t size, uint32_t fds) {
  VhostUserMsg m;
  auto b = make(req, payload, size);
  return parse_message(b, fds, &m);
}

int open_fd() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

bool fd_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

// Sends `bytes` with `fds` attached.
void send_with_fds(int sock, const std::vector<uint8_t>& bytes, const std::vector<int>& fds) {
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    mh.msg_control = control.data();
    mh.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  REQUIRE(sendmsg(sock, &mh, 0) == static_cast<ssize_t>(bytes.size()));
}

struct SockPair {
  int a = -1, b = -1;
  SockPair() {
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    a = sv[0];
    b = sv[1];
  }
  ~SockPair() {
    if (a >= 0) close(a);
    if (b >= 0) close(b);
  }
};

}  // namespace

TEST_CASE("header checks: truncation, version, reply flag, size mismatch, max size") {
  VhostUserMsg m;
  std::vector<uint8_t> tiny(11);
  CHECK(parse_message(tiny, 0, &m) == MsgError::kTruncated);
  CHECK(parse_message(make(R::kGetFeatures, nullptr, 0, 0x2), 0, &m) == MsgError::kBadVersion);
  CHECK(parse_message(make(R::kGetFeatures, nullptr, 0, 0x0), 0, &m) == MsgError::kBadVersion);
  CHECK(parse_message(make(R::kGetFeatures, nullptr, 0, vu::kFlagVersion | vu::kFlagReply), 0,
                      &m) == MsgError::kUnexpectedReply);
  uint64_t v = 0;
  CHECK(parse_message(make(R::kSetFeatures, &v, 8, vu::kFlagVersion, 16), 0, &m) ==
        MsgError::kTruncated);
  CHECK(parse_message(make(R::kSetFeatures, &v, 8, vu::kFlagVersion, 4), 0, &m) ==
        MsgError::kTrailingBytes);
  CHECK(parse_message(make(R::kSetFeatures, &v, 8, vu::kFlagVersion, vu::kMaxPayloadSize + 1), 0,
                      &m) == MsgError::kPayloadTooBig);
  // NEED_REPLY is accepted and visible.
  REQUIRE(parse_message(make(R::kSetFeatures, &v, 8, vu::kFlagVersion | vu::kFlagNeedReply), 0,
                        &m) == MsgError::kOk);
  CHECK(m.need_reply());
  CHECK(m.request() == R::kSetFeatures);
}

TEST_CASE("requests without payload") {
  uint64_t v = 0;
  for (R r : {R::kGetFeatures, R::kSetOwner, R::kResetOwner, R::kGetProtocolFeatures,
              R::kGetQueueNum, R::kResetDevice, R::kGetMaxMemSlots, R::kGetStatus}) {
    CAPTURE(request_name(r));
    CHECK(parse(r, nullptr, 0, 0) == MsgError::kOk);
    CHECK(parse(r, &v, 8, 0) == MsgError::kBadPayloadSize);
    CHECK(parse(r, nullptr, 0, 1) == MsgError::kBadFdCount);
  }
}

TEST_CASE("u64 requests") {
  uint64_t v[2] = {1, 2};
  for (R r : {R::kSetFeatures, R::kSetProtocolFeatures, R::kSendRarp, R::kNetSetMtu,
              R::kSetStatus}) {
    CAPTURE(request_name(r));
    CHECK(parse(r, v, 8, 0) == MsgError::kOk);
    CHECK(parse(r, v, 4, 0) == MsgError::kBadPayloadSize);
    CHECK(parse(r, v, 16, 0) == MsgError::kBadPayloadSize);
    CHECK(parse(r, nullptr, 0, 0) == MsgError::kBadPayloadSize);
    CHECK(parse(r, v, 8, 1) == MsgError::kBadFdCount);
  }
}

TEST_CASE("vring state and vring address requests") {
  vu::VringState s{1, 256};
  for (R r : {R::kSetVringNum, R::kSetVringBase, R::kGetVringBase, R::kSetVringEnable}) {
    CAPTURE(request_name(r));
    CHECK(parse(r, &s, 8, 0) == MsgError::kOk);
    CHECK(parse(r, &s, 4, 0) == MsgError::kBadPayloadSize);
    CHECK(parse(r, &s, 8, 1) == MsgError::kBadFdCount);
  }
  vu::VringAddr a{};
  CHECK(parse(R::kSetVringAddr, &a, sizeof a, 0) == MsgError::kOk);
  CHECK(parse(R::kSetVringAddr, &a, sizeof a - 8, 0) == MsgError::kBadPayloadSize);
  CHECK(parse(R::kSetVringAddr, &a, sizeof a, 2) == MsgError::kBadFdCount);
}

TEST_CASE("kick/call/err: one fd unless NOFD") {
  for (R r : {R::kSetVringKick, R::kSetVringCall, R::kSetVringErr}) {
    CAPTURE(request_name(r));
    uint64_t idx = 1;
    CHECK(parse(r, &idx, 8, 1) == MsgError::kOk);
    CHECK(parse(r, &idx, 8, 0) == MsgError::kBadFdCount);
    CHECK(parse(r, &idx, 8, 2) == MsgError::kBadFdCount);
    uint64_t nofd = 1 | vu::kVringNofdMask;
    CHECK(parse(r, &nofd, 8, 0) == MsgError::kOk);
    CHECK(parse(r, &nofd, 8, 1) == MsgError::kBadFdCount);
    CHECK(parse(r, &idx, 4, 1) == MsgError::kBadPayloadSize);
  }
}

TEST_CASE("SET_MEM_TABLE: region count, exact or full size, one fd per region") {
  vu::MemoryTable t{};
  t.num_regions = 2;
  CHECK(parse(R::kSetMemTable, &t, 8 + 2 * 32, 2) == MsgError::kOk);
  CHECK(parse(R::kSetMemTable, &t, sizeof t, 2) == MsgError::kOk);
  CHECK(parse(R::kSetMemTable, &t, 8 + 3 * 32, 2) == MsgError::kBadPayloadSize);
  CHECK(parse(R::kSetMemTable, &t, 8 + 1 * 32, 2) == MsgError::kBadPayloadSize);
  CHECK(parse(R::kSetMemTable, &t, 8 + 2 * 32, 1) == MsgError::kBadFdCount);
  CHECK(parse(R::kSetMemTable, &t, 8 + 2 * 32, 3) == MsgError::kBadFdCount);
  CHECK(parse(R::kSetMemTable, &t, 4, 0) == MsgError::kBadPayloadSize);
  t.num_regions = 0;
  CHECK(parse(R::kSetMemTable, &t, 8, 0) == MsgError::kBadRegionCount);
  t.num_regions = 9;
  CHECK(parse(R::kSetMemTable, &t, sizeof t, 8) == MsgError::kBadRegionCount);
  t.num_regions = 8;
  CHECK(parse(R::kSetMemTable, &t, sizeof t, 8) == MsgError::kOk);
  CHECK(parse(R::kSetMemTable, &t, sizeof t, 9) == MsgError::kTooManyFds);
}

TEST_CASE("ADD_MEM_REG needs one fd; REM_MEM_REG takes zero or one") {
  vu::SingleMemoryRegion r{};
  CHECK(parse(R::kAddMemReg, &r, sizeof r, 1) == MsgError::kOk);
  CHECK(parse(R::kAddMemReg, &r, sizeof r, 0) == MsgError::kBadFdCount);
  CHECK(parse(R::kAddMemReg, &r, 32, 1) == MsgError::kBadPayloadSize);
  CHECK(parse(R::kRemMemReg, &r, sizeof r, 0) == MsgError::kOk);
  CHECK(parse(R::kRemMemReg, &r, sizeof r, 1) == MsgError::kOk);
  CHECK(parse(R::kRemMemReg, &r, sizeof r, 2) == MsgError::kBadFdCount);
  CHECK(parse(R::kRemMemReg, &r, 8, 0) == MsgError::kBadPayloadSize);
}

TEST_CASE("log and backend-channel requests carry their fd") {
  vu::LogDescription l{};
  CHECK(parse(R::kSetLogBase, &l, sizeof l, 1) == MsgError::kOk);
  CHECK(parse(R::kSetLogBase, &l, sizeof l, 0) == MsgError::kBadFdCount);
  CHECK(parse(R::kSetLogFd, nullptr, 0, 1) == MsgError::kOk);
  CHECK(parse(R::kSetLogFd, nullptr, 0, 0) == MsgError::kBadFdCount);
  CHECK(parse(R::kSetBackendReqFd, nullptr, 0, 1) == MsgError::kOk);
}

TEST_CASE("GET/SET_CONFIG: size field must match the payload") {
  vu::ConfigSpace c{};
  c.hdr.size = 10;
  CHECK(parse(R::kGetConfig, &c, 12 + 10, 0) == MsgError::kOk);
  CHECK(parse(R::kSetConfig, &c, 12 + 10, 0) == MsgError::kOk);
  CHECK(parse(R::kGetConfig, &c, 12 + 9, 0) == MsgError::kBadConfigSize);
  CHECK(parse(R::kGetConfig, &c, 8, 0) == MsgError::kBadPayloadSize);
  CHECK(parse(R::kGetConfig, &c, 12 + 10, 1) == MsgError::kBadFdCount);
  c.hdr.size = 257;
  CHECK(parse(R::kGetConfig, &c, 12 + 256, 0) == MsgError::kBadConfigSize);
  c.hdr.size = 256;
  CHECK(parse(R::kGetConfig, &c, 12 + 256, 0) == MsgError::kOk);
}

TEST_CASE("unknown requests parse within the global limits") {
  uint8_t raw[vu::kMaxPayloadSize] = {};
  CHECK(parse(static_cast<R>(999), raw, 17, 0) == MsgError::kOk);
  CHECK(parse(R::kIotlbMsg, raw, 64, 0) == MsgError::kOk);
  CHECK(parse(static_cast<R>(999), raw, 17, 9) == MsgError::kTooManyFds);
  CHECK(std::strcmp(request_name(static_cast<R>(999)), "UNKNOWN") == 0);
}

TEST_CASE("payload is copied and zero-filled") {
  uint64_t v = 0x1122334455667788ull;
  VhostUserMsg m;
  std::memset(&m.payload, 0xee, sizeof m.payload);
  REQUIRE(parse_message(make(R::kSetFeatures, &v, 8), 0, &m) == MsgError::kOk);
  CHECK(m.payload.u64 == v);
  CHECK(m.payload.raw[8] == 0);
}

TEST_CASE("reader: a message split across writes, with an fd, arrives whole") {
  SockPair sp;
  MsgReader rd;
  VhostUserMsg m;
  MsgError err = MsgError::kOk;
  CHECK(rd.read(sp.b, &m, &err) == MsgReader::Status::kAgain);

  uint64_t idx = 3;
  auto bytes = make(R::kSetVringCall, &idx, 8);
  int fd = open_fd();
  std::vector<uint8_t> first(bytes.begin(), bytes.begin() + 5);
  std::vector<uint8_t> rest(bytes.begin() + 5, bytes.end());
  send_with_fds(sp.a, first, {fd});
  close(fd);
  CHECK(rd.read(sp.b, &m, &err) == MsgReader::Status::kAgain);
  send_with_fds(sp.a, rest, {});
  REQUIRE(rd.read(sp.b, &m, &err) == MsgReader::Status::kMessage);
  CHECK(m.request() == R::kSetVringCall);
  CHECK(m.payload.u64 == 3);
  REQUIRE(rd.fds().count() == 1);
  int got = rd.fds().take(0);
  CHECK(got >= 0);
  CHECK(fd_open(got));
  CHECK((fcntl(got, F_GETFD) & FD_CLOEXEC) != 0);
  close(got);
}

TEST_CASE("reader: fds not taken by the handler are closed on the next read") {
  SockPair sp;
  MsgReader rd;
  VhostUserMsg m;
  MsgError err;
  uint64_t idx = 0;
  int fd = open_fd();
  send_with_fds(sp.a, make(R::kSetVringKick, &idx, 8), {fd});
  close(fd);
  REQUIRE(rd.read(sp.b, &m, &err) == MsgReader::Status::kMessage);
  // Peek at the received number without taking it.
  int received = rd.fds().take(0);
  REQUIRE(received >= 0);
  REQUIRE(rd.fds().add(received));  // give it back
  CHECK(rd.read(sp.b, &m, &err) == MsgReader::Status::kAgain);
  CHECK(!fd_open(received));
}

TEST_CASE("reader: wrong fd count and too many fds are errors and leak nothing") {
  SockPair sp;
  MsgReader rd;
  VhostUserMsg m;
  MsgError err = MsgError::kOk;
  int fd = open_fd();
  // GET_FEATURES with an fd: wrong count.
  send_with_fds(sp.a, make(R::kGetFeatures, nullptr, 0), {fd});
  CHECK(rd.read(sp.b, &m, &err) == MsgReader::Status::kError);
  CHECK(err == MsgError::kBadFdCount);
  CHECK(rd.fds().count() == 0);

  SockPair sp2;
  std::vector<int> many;
  for (int i = 0; i < 12; ++i) many.push_back(fd);
  vu::MemoryTable t{};
  t.num_regions = 8;
  int before = open_fd();  // the lowest free fd number, to detect leaks afterwards
  close(before);
  send_with_fds(sp2.a, make(R::kSetMemTable, &t, sizeof t), many);
  MsgReader rd2;
  CHECK(rd2.read(sp2.b, &m, &err) == MsgReader::Status::kError);
  CHECK(err == MsgError::kTooManyFds);
  int after = open_fd();
  CHECK(after == before);  // every received fd was closed
  close(after);
  close(fd);
}

TEST_CASE("reader: oversized header is refused before reading the payload; EOF is reported") {
  SockPair sp;
  MsgReader rd;
  VhostUserMsg m;
  MsgError err;
  vu::VhostUserHeader h{1, vu::kFlagVersion, 1u << 30};
  REQUIRE(write(sp.a, &h, sizeof h) == sizeof h);
  CHECK(rd.read(sp.b, &m, &err) == MsgReader::Status::kError);
  CHECK(err == MsgError::kPayloadTooBig);

  SockPair sp2;
  MsgReader rd2;
  REQUIRE(write(sp2.a, &h, 6) == 6);
  close(sp2.a);
  sp2.a = -1;
  CHECK(rd2.read(sp2.b, &m, &err) == MsgReader::Status::kError);
  CHECK(err == MsgError::kPeerClosed);
}

TEST_CASE("send_reply writes header with REPLY flag and payload") {
  SockPair sp;
  uint64_t v = 42;
  REQUIRE(send_reply(sp.a, R::kGetFeatures, &v, 8));
  uint8_t buf[32];
  REQUIRE(read(sp.b, buf, sizeof buf) == 20);
  vu::VhostUserHeader h;
  std::memcpy(&h, buf, sizeof h);
  CHECK(h.request == 1);
  CHECK(h.flags == (vu::kFlagVersion | vu::kFlagReply));
  CHECK(h.size == 8);
  uint64_t got;
  std::memcpy(&got, buf + 12, 8);
  CHECK(got == 42);
}

TEST_CASE("every MsgError has a name") {
  for (int e = 0; e <= static_cast<int>(MsgError::kIo); ++e) {
    CHECK(std::strcmp(to_string(static_cast<MsgError>(e)), "unknown message error") != 0);
  }
}
