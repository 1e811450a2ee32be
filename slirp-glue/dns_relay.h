// SPDX-License-Identifier: MIT
// DnsRelay: the NAT's UDP DNS relay to a configured resolver (the `dns-server=` key).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "eventloop/event_loop.h"
#include "eventloop/fd_handler.h"

namespace uvs::slirpglue {

class NatPort;

/// libslirp 4.7 always relays DNS to the first resolv.conf server and has no API to change
/// that, so with `dns-server=IP[:PORT]` the NAT answers UDP queries to its DNS address itself:
/// it forwards each query from one connected UDP socket (ids rewritten, so guests cannot clash)
/// and turns each answer into a frame back to the guest that asked. Loop thread only.
class DnsRelay final : public ev::FdHandler {
 public:
  struct Opened {
    std::unique_ptr<DnsRelay> relay;
    std::string error;
    explicit operator bool() const { return relay != nullptr; }
  };
  /// Opens the socket toward `server`. `dns` is the NAT's DNS address (network order).
  static Opened open(NatPort& port, ev::EventLoop& loop, const sockaddr_storage& server,
                     in_addr dns);
  ~DnsRelay() override;

  /// If `frame` is a UDP/IPv4 query to the DNS address, port 53, relays it and returns true
  /// (the frame is consumed); otherwise false. Never blocks.
  bool take_query(const uint8_t* frame, size_t len) noexcept;
  void on_readable() override;

  uint64_t relayed() const { return relayed_; }
  uint64_t answered() const { return answered_; }
  uint64_t errors() const { return errors_; }

 private:
  DnsRelay(NatPort& port, int fd, in_addr dns);
  /// Who asked: where the answer goes, and the id the guest used.
  struct Pending {
    uint8_t mac[6];
    uint32_t ip = 0;  ///< network order
    uint16_t port = 0;
    uint16_t guest_id = 0;
    bool used = false;
  };
  static constexpr size_t kSlots = 1024;

  NatPort& port_;
  int fd_;
  in_addr dns_;
  ev::FdRegistration reg_;
  std::array<Pending, kSlots> pending_{};
  uint16_t next_id_ = 0;
  uint64_t relayed_ = 0, answered_ = 0, errors_ = 0;
};

}  // namespace uvs::slirpglue
