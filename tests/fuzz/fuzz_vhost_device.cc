// SPDX-License-Identifier: MIT
// libFuzzer target: the vhost-user device state machine fed message sequences with real fds.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "netback/vhost/vhost_user_device.h"
#include "netback/vhost/vhost_user_msg.h"
#include "tests/fuzz/fuzz_reader.h"

using uvs::fuzz::FuzzReader;
using namespace uvs::netback;
using R = vu::VhostUserRequest;

namespace {

[[noreturn]] void fail() { __builtin_trap(); }

constexpr char kMemfdName[] = "uvs-fuzz-guest";

// Plays the port: on attach of a running ring it touches the ring the way the data path would,
// so a translation that points outside the mapped memory faults here.
struct Listener final : VhostUserDeviceListener {
  VhostUserDevice* dev = nullptr;
  void vring_detach(uint32_t index) noexcept override {
    if (index >= dev->vring_count()) fail();
  }
  void vring_attach(uint32_t index) noexcept override {
    if (index >= dev->vring_count()) fail();
    Vring& v = dev->vring(index);
    if (!v.running()) return;
    if (v.vq.size() != v.num) fail();
    if (index % 2 == 0) v.vq.disable_notifications();
    (void)v.vq.pending();
    iovec iov[8];
    VirtqChain chain;
    (void)v.vq.pop(iov, 8, &chain);
    (void)v.vq.enable_notifications();
  }
  void announce(const uint8_t*) noexcept override {}
};

constexpr uint64_t kMaxBacked = uint64_t{1} << 40;

// Whether a memfd can back all of `r` (its end fits kMaxBacked).
bool backable(const vu::MemoryRegion& r) {
  const uint64_t end = r.mmap_offset + r.memory_size;
  return end >= r.mmap_offset && end <= kMaxBacked;
}

// A memfd big enough for `r` (sparse: nothing is allocated until touched), or one page when it
// cannot be backed: guest memory must refuse a region its fd does not cover (first touch would
// raise SIGBUS).
int memfd_for(const vu::MemoryRegion& r) {
  int fd = memfd_create(kMemfdName, MFD_CLOEXEC);
  if (fd < 0) fail();
  const uint64_t end = backable(r) ? r.mmap_offset + r.memory_size : 4096;
  if (ftruncate(fd, off_t(end)) != 0) fail();
  return fd;
}

bool any_guest_mapping() {
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (!f) fail();
  char line[512];
  bool found = false;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strstr(line, kMemfdName)) found = true;
  }
  std::fclose(f);
  return found;
}

}  // namespace

// Input: byte 0 = device (queue pairs 1..4, bit 2: has a MAC), then messages, each
//   [fd byte: count (low 4 bits, at most 8); bit 4: eventfds even where memory is expected]
//   bit 5: length + 256] [u8 length] [that many bytes: 12-byte header + payload, as on the socket].
// A message that does not parse, or that the device calls fatal, ends the "connection": the
// device is reset as the port does. At the end every fd the harness made must be closed and no
// guest memory left mapped.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzReader r{data, size};
  const uint8_t cfg_byte = r.u8();
  NetDeviceConfig cfg;
  cfg.queue_pairs = 1 + (cfg_byte & 3);
  cfg.has_mac = (cfg_byte & 4) != 0;
  cfg.mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
  std::vector<int> made;
  {
    Listener listener;
    VhostUserDevice dev(cfg, &listener);
    listener.dev = &dev;
    for (int msgs = 0; r.n > 0 && msgs < 64; ++msgs) {
      const uint8_t fdb = r.u8();
      const uint32_t nfds = (fdb & 0x0f) % (vu::kMaxFds + 1);
      size_t len = r.u8() + ((fdb & 0x20) ? 256u : 0u);
      if (len > r.n) len = r.n;
      std::span<const uint8_t> bytes(r.p, len);
      r.p += len;
      r.n -= len;
      VhostUserMsg msg;
      if (parse_message(bytes, nfds, &msg) != MsgError::kOk) {
        dev.reset();
        continue;
      }
      ReceivedFds fds;
      for (uint32_t k = 0; k < nfds; ++k) {
        int fd;
        if (!(fdb & 0x10) && msg.request() == R::kSetMemTable && k < msg.payload.mem.num_regions) {
          fd = memfd_for(msg.payload.mem.regions[k]);
        } else if (!(fdb & 0x10) && msg.request() == R::kAddMemReg) {
          fd = memfd_for(msg.payload.mem_reg.region);
        } else {
          fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        }
        if (fd < 0) fail();
        made.push_back(fd);
        if (!fds.add(fd)) fail();
      }
      DeviceReply reply;
      std::string error;
      HandleOutcome out = dev.handle(msg, fds, &reply, &error);
      if (reply.send && reply.size > vu::kMaxPayloadSize) fail();
      if (out != HandleOutcome::kOk && error.empty()) fail();
      if (dev.vring_count() != 2 * cfg.queue_pairs) fail();
      if (out == HandleOutcome::kFatal) dev.reset();
    }
  }
  // The device and every ReceivedFds are gone: nothing the harness made may still be open.
  for (int fd : made) {
    if (fcntl(fd, F_GETFD) != -1) fail();
  }
  if (any_guest_mapping()) fail();
  return 0;
}
