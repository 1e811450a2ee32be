// SPDX-License-Identifier: MIT
// ScriptedBackend: a canned vhost-user backend on a thread that records what the frontend sends.
#pragma once

#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "netback/vhost/vhost_user_proto.h"
#include "netback/common/virtio_defs.h"

namespace uvs::frontend::test {

/// One message as the backend received it.
struct SeenMessage {
  uint32_t request = 0;
  uint32_t flags = 0;
  uint32_t size = 0;           ///< announced size
  std::vector<uint8_t> payload;  ///< what was actually read (<= size)
  size_t nfds = 0;
  bool ctrunc = false;         ///< the kernel dropped fds (MSG_CTRUNC)
};

/// Answers GET_* with configured values, acks NEED_REPLY (or nacks one chosen request), maps the
/// memory it is given, and remembers every message. Not a real device: it never touches rings
/// except to let tests look at them through its own mapping. Serves one connection.
class ScriptedBackend {
 public:
  uint64_t features = 0;
  uint64_t protocol_features = 0;
  uint64_t queue_num = 0;
  uint32_t nack_request = 0;  ///< ack this request id with status 1

  ~ScriptedBackend() { stop(); }

  /// Listens at `path` and serves one connection on a thread.
  void serve(const std::string& path) {
    int lfd = make_socket(path, true);
    thread_ = std::thread([this, lfd, path] {
      pollfd p{lfd, POLLIN, 0};
      if (::poll(&p, 1, 5000) == 1) fd_ = ::accept(lfd, nullptr, nullptr);
      ::close(lfd);
      ::unlink(path.c_str());  // one connection only: the socket file has served its purpose
      if (fd_ >= 0) loop();
    });
  }
  /// Connects to a frontend listening at `path` and serves on a thread.
  void connect_to(const std::string& path) {
    thread_ = std::thread([this, path] {
      for (int i = 0; i < 500 && fd_ < 0; ++i) {
        fd_ = make_socket(path, false);
        if (fd_ < 0) usleep(10000);
      }
      if (fd_ >= 0) loop();
    });
  }
  /// Waits for the connection to end (the frontend closes), then returns.
  void stop() {
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    for (auto& m : maps_) munmap(m.base, m.len);
    maps_.clear();
  }

  std::vector<SeenMessage> messages() {
    std::lock_guard<std::mutex> g(mu_);
    return seen_;
  }
  std::vector<uint32_t> requests() {
    std::vector<uint32_t> r;
    for (const auto& m : messages()) r.push_back(m.request);
    return r;
  }
  /// Backend-side pointer for a frontend userspace address, via the memory table it received.
  uint8_t* from_user(uint64_t uaddr) {
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& m : maps_) {
      if (uaddr >= m.region.userspace_addr && uaddr - m.region.userspace_addr < m.region.memory_size) {
        return static_cast<uint8_t*>(m.base) + m.region.mmap_offset + (uaddr - m.region.userspace_addr);
      }
    }
    return nullptr;
  }
  netback::vu::VringAddr vring_addr(uint32_t index) {
    std::lock_guard<std::mutex> g(mu_);
    return addrs_[index];
  }

 private:
  struct Mapping {
    void* base;
    size_t len;
    netback::vu::MemoryRegion region;
  };

  static int make_socket(const std::string& path, bool listen) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    if (listen) {
      ::unlink(path.c_str());
      if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && ::listen(fd, 1) == 0) return fd;
    } else if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
      return fd;
    }
    ::close(fd);
    return -1;
  }

  // Reads exactly n bytes (collecting fds); false on EOF.
  bool read_n(uint8_t* dst, size_t n, std::vector<int>* fds, bool* ctrunc) {
    size_t got = 0;
    while (got < n) {
      iovec iov{dst + got, n - got};
      alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * 16)];
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = cbuf;
      msg.msg_controllen = sizeof(cbuf);
      ssize_t r = ::recvmsg(fd_, &msg, MSG_CMSG_CLOEXEC);
      if (r <= 0) return false;
      if (msg.msg_flags & MSG_CTRUNC) *ctrunc = true;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          fds->push_back(fd);
        }
      }
      got += static_cast<size_t>(r);
    }
    return true;
  }

  void reply(uint32_t request, const void* p, uint32_t size) {
    netback::vu::VhostUserHeader h{request, netback::vu::kFlagVersion | netback::vu::kFlagReply, size};
    std::vector<uint8_t> buf(sizeof(h) + size);
    std::memcpy(buf.data(), &h, sizeof(h));
    std::memcpy(buf.data() + sizeof(h), p, size);
    (void)!::send(fd_, buf.data(), buf.size(), MSG_NOSIGNAL);
  }

  void loop() {
    namespace vu = netback::vu;
    using R = vu::VhostUserRequest;
    for (;;) {
      SeenMessage m;
      std::vector<int> fds;
      vu::VhostUserHeader h{};
      if (!read_n(reinterpret_cast<uint8_t*>(&h), sizeof(h), &fds, &m.ctrunc)) break;
      m.request = h.request;
      m.flags = h.flags;
      m.size = h.size;
      // Read at most what a real message can hold; a bigger announcement is read no further.
      m.payload.resize(std::min<uint32_t>(h.size, vu::kMaxPayloadSize));
      bool eof = !m.payload.empty() && !read_n(m.payload.data(), m.payload.size(), &fds, &m.ctrunc);
      m.nfds = fds.size();
      if (h.request == uint32_t(R::kSetMemTable) && !eof && m.payload.size() >= 8) {
        uint32_t n = 0;
        std::memcpy(&n, m.payload.data(), 4);
        for (uint32_t i = 0; i < n && i < fds.size() && 8 + (i + 1) * 32 <= m.payload.size(); ++i) {
          vu::MemoryRegion r;
          std::memcpy(&r, m.payload.data() + 8 + i * 32, sizeof(r));
          void* b = mmap(nullptr, r.memory_size + r.mmap_offset, PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);
          if (b != MAP_FAILED) {
            std::lock_guard<std::mutex> g(mu_);
            maps_.push_back({b, r.memory_size + r.mmap_offset, r});
          }
        }
      }
      if (h.request == uint32_t(R::kSetVringAddr) && m.payload.size() == sizeof(vu::VringAddr)) {
        vu::VringAddr a;
        std::memcpy(&a, m.payload.data(), sizeof(a));
        std::lock_guard<std::mutex> g(mu_);
        if (a.index < 256) addrs_[a.index] = a;
      }
      for (int fd : fds) ::close(fd);
      {
        std::lock_guard<std::mutex> g(mu_);
        seen_.push_back(m);
      }
      if (eof) break;
      switch (R(h.request)) {
        case R::kGetFeatures: reply(h.request, &features, 8); continue;
        case R::kGetProtocolFeatures: reply(h.request, &protocol_features, 8); continue;
        case R::kGetQueueNum: reply(h.request, &queue_num, 8); continue;
        case R::kGetMaxMemSlots: {
          uint64_t slots = 8;
          reply(h.request, &slots, 8);
          continue;
        }
        case R::kGetVringBase: {
          vu::VringState st{0, 0};
          std::memcpy(&st.index, m.payload.data(), 4);
          st.num = 40 + st.index;
          reply(h.request, &st, sizeof(st));
          continue;
        }
        case R::kGetConfig: {
          std::vector<uint8_t> cfg = m.payload;
          static const uint8_t mac[6] = {2, 0, 0, 0, 0, 0x42};
          if (cfg.size() >= 18) std::memcpy(cfg.data() + 12, mac, 6);
          reply(h.request, cfg.data(), static_cast<uint32_t>(cfg.size()));
          continue;
        }
        default: break;
      }
      if (h.flags & vu::kFlagNeedReply) {
        uint64_t status = h.request == nack_request ? 1 : 0;
        reply(h.request, &status, 8);
      }
    }
  }

  std::thread thread_;
  int fd_ = -1;
  std::mutex mu_;
  std::vector<SeenMessage> seen_;
  std::vector<Mapping> maps_;
  netback::vu::VringAddr addrs_[256]{};
};

}  // namespace uvs::frontend::test
