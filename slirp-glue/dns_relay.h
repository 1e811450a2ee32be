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
/// it forwards each query from one connected UDP socket and turns each answer into a frame back
/// to the guest that asked.
///
/// Answers are hard to forge (RFC 5452): the socket is connected, so the kernel delivers only
/// datagrams from the server's address and port; every query goes out with a random id
/// (getrandom), and an answer is accepted only if it is a response with the id of an
/// outstanding query and the same question section (name compared case-insensitively, type
/// and class). Anything else is dropped and counted, and leaves the query waiting for its real
/// answer. An answer too long for one frame of the NAT's MTU (the relay does not fragment) is
/// replaced by its header and question with the TC bit set (RFC 1035 4.1.1), which tells the
/// guest's resolver to retry over TCP. Loop thread only.
class DnsRelay final : public ev::FdHandler {
 public:
  struct Opened {
    std::unique_ptr<DnsRelay> relay;
    std::string error;
    explicit operator bool() const { return relay != nullptr; }
  };
  /// Opens the socket toward `server`. `dns` is the NAT's DNS address (network order); `mtu`
  /// bounds the IP packets the relay builds toward guests.
  static Opened open(NatPort& port, ev::EventLoop& loop, const sockaddr_storage& server,
                     in_addr dns, uint32_t mtu);
  ~DnsRelay() override;

  /// If `frame` is a UDP/IPv4 datagram to the DNS address, port 53, takes it and returns true:
  /// relayed if it is a well-formed query with one question, else dropped (counted as an
  /// error). Otherwise false. Never blocks.
  bool take_query(const uint8_t* frame, size_t len) noexcept;
  void on_readable() override;

  uint64_t relayed() const { return relayed_; }
  uint64_t answered() const { return answered_; }
  /// Answers that matched no outstanding question (wrong id, question or not a response).
  uint64_t mismatched() const { return mismatched_; }
  /// Answers sent to the guest cut to their question with TC set.
  uint64_t truncated() const { return truncated_; }
  uint64_t errors() const { return errors_; }

  /// Longest question section kept: a 255-byte name (RFC 1035 2.3.4) plus type and class.
  static constexpr size_t kMaxQuestion = 255 + 4;
  /// Queries outstanding at once; a new one beyond this replaces the oldest.
  static constexpr size_t kSlots = 256;

 private:
  DnsRelay(NatPort& port, int fd, in_addr dns, uint32_t mtu);
  /// Who asked: where the answer goes, the id the guest used, and the question it asked.
  struct Pending {
    uint8_t mac[6];
    uint32_t ip = 0;  ///< network order
    uint16_t port = 0;
    uint16_t guest_id = 0;
    uint16_t wire_id = 0;  ///< the random id the query went out with
    uint16_t qlen = 0;
    uint8_t question[kMaxQuestion];
    uint64_t seq = 0;  ///< age, to replace the oldest when all slots are taken
    bool used = false;
  };
  Pending* find_answer(const uint8_t* dns, size_t len) noexcept;
  Pending* free_slot() noexcept;

  NatPort& port_;
  int fd_;
  in_addr dns_;
  size_t max_dns_;  // longest DNS message that fits one frame toward a guest
  ev::FdRegistration reg_;
  std::array<Pending, kSlots> pending_{};
  std::unique_ptr<uint8_t[]> frame_;  // an answer frame being built (up to 64 KiB)
  std::unique_ptr<uint8_t[]> query_;  // a query with its id rewritten
  uint64_t seq_ = 0;
  uint64_t relayed_ = 0, answered_ = 0, mismatched_ = 0, truncated_ = 0, errors_ = 0;
};

}  // namespace uvs::slirpglue
