// SPDX-License-Identifier: MIT
// NatConnLimit: caps the sockets a NAT port's guests make libslirp open (max-connections).
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace uvs::slirpglue {

/// libslirp 4.7 has no limit of its own and no hook before it opens a socket for a guest: a
/// guest TCP SYN (tcp_fconnect), a datagram of a new UDP flow (udp_attach) or a ping to the
/// outside (icmp_send) each get one, inside slirp_input. So the limit is kept on the way in:
/// every such frame is classified before slirp_input, and the socket libslirp registers during
/// that call (register_poll_fd, synchronous) is recorded with the flow that made it. Once the
/// NAT holds the limit, frames of recorded flows still pass and frames that would open a socket
/// are refused (the caller drops and counts them). A flow's record goes with its socket.
///
/// Threading: the NAT port's loop thread only. Allocates only at construction.
class NatConnLimit {
 public:
  /// A limit of `max` sockets (> 0). `host` is the NAT's own address (network byte order),
  /// whose pings libslirp answers itself.
  NatConnLimit(uint32_t max, in_addr host);

  /// Classifies the guest frame `frame` (`len` bytes, Ethernet) with `open` sockets held now
  /// (forward listeners excluded). Returns false when it would open a socket beyond the limit;
  /// otherwise true, and remembers its flow until input_done() so on_register() can record it.
  bool admit(const uint8_t* frame, size_t len, size_t open) noexcept;
  /// Ends the slirp_input call admit() prepared.
  void input_done() noexcept { pending_ = false; }
  /// libslirp registered socket `fd`: it belongs to the pending flow, if any.
  void on_register(int fd) noexcept;
  /// libslirp closed socket `fd`.
  void on_unregister(int fd) noexcept;

  uint32_t max() const noexcept { return max_; }
  /// Flows recorded now (tests).
  size_t flows() const noexcept { return flows_.size(); }

 private:
  /// A guest flow as libslirp keys its socket: a UDP socket per guest address and port, a TCP
  /// socket per connection (the destination too).
  struct FlowKey {
    uint8_t proto = 0;   ///< IPPROTO_TCP / IPPROTO_UDP
    uint8_t family = 0;  ///< 4 or 6
    uint16_t port = 0;   ///< guest's source port, network order
    uint16_t dport = 0;  ///< TCP: destination port; UDP: 0
    uint8_t addr[16] = {};
    uint8_t daddr[16] = {};  ///< TCP: destination address; UDP: zero
    bool operator==(const FlowKey&) const = default;
  };
  struct Flow {
    int fd;
    FlowKey key;
  };
  enum class Kind { kOther, kFlow, kPing };
  Kind classify(const uint8_t* frame, size_t len, FlowKey* key) const noexcept;
  bool known(const FlowKey& key) const noexcept;

  uint32_t max_;
  in_addr host_;
  std::vector<Flow> flows_;  ///< reserved for max_ flows; never grows past it
  bool pending_ = false;
  FlowKey pending_key_;
};

}  // namespace uvs::slirpglue
