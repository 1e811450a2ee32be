// SPDX-License-Identifier: MIT
// NatPortOptions, NatForward and NatPortStats: what a NAT port is configured with and reports.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace uvs::slirpglue {

/// One host port forward (QEMU's hostfwd): connections to host:host_port on the host are
/// forwarded to guest:guest_port on the NAT's network.
struct NatForward {
  bool udp = false;
  bool host_v6 = false;      ///< host address is IPv6 (host6), else IPv4 (host4)
  in_addr host4{};           ///< 0.0.0.0 binds every IPv4 address
  in6_addr host6{};          ///< :: binds every IPv6 address
  uint16_t host_port = 0;
  in_addr guest{};           ///< 0.0.0.0: the first DHCP address, as in QEMU
  uint16_t guest_port = 0;

  /// QEMU syntax, e.g. "tcp:127.0.0.1:2222-10.0.2.15:22" (guest address resolved).
  std::string to_string() const;
  /// Same protocol and host port, and host addresses that bind the same socket (equal, or one of
  /// them the wildcard of the same family).
  bool overlaps(const NatForward& o) const;
  /// Same protocol, host address and host port: the rule hostfwd-del means.
  bool same_host_side(const NatForward& o) const;
};

/// Settings of one NAT port; addresses in network byte order as libslirp takes them.
struct NatPortOptions {
  std::string name = "nat0";
  in_addr net{};         ///< network address (host bits clear)
  in_addr mask{};        ///< netmask
  in_addr host{};        ///< the NAT's own (gateway) address
  in_addr dhcp_start{};  ///< first address DHCP hands out
  in_addr dns{};         ///< the DNS address the guests are told about
  bool ipv6 = true;
  in6_addr ipv6_prefix{};
  uint8_t ipv6_prefix_len = 64;
  std::string domain;     ///< DHCP domain name; empty: none
  bool restrict_guest = false;  ///< guests cannot reach the outside (hostfwd still works)
  /// The host address reaches the host's 127.0.0.1 (QEMU's behaviour); false sets libslirp's
  /// disable_host_loopback, so guests' connections to it fail.
  bool host_loopback = true;
  /// Most libslirp sockets (connections, UDP flows, pings; forward listeners excluded) the
  /// guests may make; frames that would open more are dropped. 0: no limit (QEMU's behaviour).
  uint32_t max_connections = 0;
  bool dhcp = true;
  uint32_t mtu = 1500;
  /// Where DNS queries to `dns` go (uvswitch extension): a resolver address the NAT relays UDP
  /// queries to itself. Absent: libslirp's own relay to the host's resolv.conf server.
  std::optional<sockaddr_storage> dns_server;
  std::vector<NatForward> hostfwd;  ///< set up at start(); any failure fails start()
};

/// Counters of one NAT port. "in" is switch → NAT (frames the guests sent), "out" is NAT →
/// switch (frames toward the guests).
struct NatPortStats {
  uint64_t in_frames = 0;        ///< frames handed to libslirp
  uint64_t in_bytes = 0;
  uint64_t in_not_ours = 0;      ///< unicast frames for another MAC: not given to libslirp
  uint64_t in_drop_bad = 0;      ///< shorter than an Ethernet header, or too long
  uint64_t in_drop_reentry = 0;  ///< arrived while libslirp was busy on this instance (nested)
  uint64_t in_drop_conn_limit = 0;  ///< would have opened a socket beyond max_connections
  uint64_t in_drop_offload = 0;  ///< carried an offload the port does not take (partial checksum)
  uint64_t in_gso = 0;           ///< TSO superframes handed to libslirp whole
  uint64_t in_syn_mss_raised = 0;  ///< guest SYNs whose MSS option was raised for libslirp
  uint64_t out_frames = 0;       ///< frames libslirp sent toward the guests
  uint64_t out_bytes = 0;
  uint64_t out_drop_no_sink = 0;
  uint64_t out_gso = 0;          ///< libslirp segments sent as GSO frames (guest's MSS)
  uint64_t out_fragmented = 0;   ///< IPv4 datagrams over the MTU sent as fragments
  uint64_t out_fragments = 0;    ///< fragments those made
  uint64_t out_drop_too_big = 0; ///< IPv4 datagrams over the MTU with DF set (dropped)
  uint64_t mss_evictions = 0;    ///< connections whose MSS the full table forgot (cut at MTU)
  uint64_t tcp_open = 0;         ///< TCP sockets libslirp holds now (connections, not listeners)
  uint64_t tcp_listeners = 0;    ///< TCP hostfwd listening sockets
  uint64_t udp_open = 0;         ///< UDP sockets libslirp holds now (flows and UDP hostfwds)
  uint64_t dhcp_acks = 0;        ///< DHCPACKs sent
  uint64_t dhcp_leases = 0;      ///< distinct client MACs given a lease since start
  uint64_t dns_relayed = 0;      ///< queries relayed to dns_server
  uint64_t dns_answers = 0;      ///< answers from dns_server sent back to a guest
  uint64_t dns_mismatched = 0;   ///< replies matching no outstanding query (dropped)
  uint64_t dns_truncated = 0;    ///< answers too long for the MTU, sent as TC (retry over TCP)
  uint64_t guest_errors = 0;     ///< libslirp's guest_error reports (malformed guest packets)
  uint64_t errors = 0;           ///< other failures (relay socket errors, oversized frames)
  uint64_t passes = 0;           ///< libslirp fill/poll passes run (activity, not iterations)
  uint64_t registered_fds = 0;   ///< libslirp sockets registered with the loop now
};

}  // namespace uvs::slirpglue
