// SPDX-License-Identifier: MIT
// Config limits: the ranges numeric keys accept, in one place so help text and checks agree.
#pragma once

#include <cstdint>

namespace uvs::config {

/// --threads and thread=K bound: the only limit on forwarding threads (the switch sizes its
/// per-thread tables from the count). A bridge has 256 port slots, so more threads could not
/// all carry a port.
inline constexpr unsigned kMaxThreads = 256;
/// Default --threads: the online CPUs, but no more than this. A port is served by one thread,
/// so threads beyond the ports only cost memory and rings; 8 cover a host's VMs at full rate
/// while leaving a 128-CPU host's other cores to its guests. Larger counts are opt-in.
inline constexpr unsigned kDefaultMaxThreads = 8;
/// vhost-user queues=N: what the backend really serves (netback::kMaxQueuePairs, one bit per
/// pair in its 64-bit masks; the daemon checks at compile time that the two agree).
inline constexpr unsigned kMaxQueuePairs = 64;
/// dpdk queues=N: DpdkPort's limit (RX queues polled round-robin by one loop).
inline constexpr unsigned kMaxDpdkQueues = 64;
inline constexpr unsigned kMinMtu = 68;               ///< RFC 791: every IPv4 host handles 68
inline constexpr unsigned kMaxMtu = 65535;            ///< virtio-net config mtu is 16 bits
inline constexpr unsigned kMaxNatMtu = 65521;         ///< libslirp's IF_MTU_MAX
inline constexpr unsigned kMaxIpv6NatPrefix = 126;    ///< libslirp/QEMU refuse longer prefixes
inline constexpr unsigned kMaxNatPrefix = 30;         ///< smaller IPv4 nets leave no host room
inline constexpr int64_t kMaxPollNs = 1'000'000'000;  ///< --poll-max-ns: busy-poll at most 1 s
inline constexpr int64_t kMaxPollFactor = 1024;       ///< --poll-grow / --poll-shrink
inline constexpr unsigned kMaxSnaplen = 262144;       ///< pcap's usual maximum (tcpdump default)
inline constexpr uint64_t kMaxCaptureMb = 1u << 20;   ///< --capture max-size, in MB (1 TB)
inline constexpr unsigned kMaxCaptureFiles = 100000;  ///< --capture max-files
inline constexpr unsigned kMaxMetricsInterval = 86'400;  ///< metrics-interval seconds (a day)
inline constexpr unsigned kMaxFdbAging = 1'000'000;   ///< fdb-aging seconds (0 disables aging)
inline constexpr size_t kMaxIdLength = 64;            ///< port ids
inline constexpr unsigned kMaxPortMacs = 65536;       ///< max-macs=N: the default FDB capacity
inline constexpr unsigned kMaxNatConnections = 65536;  ///< nat max-connections=N
inline constexpr unsigned kMaxBumRate = 100'000'000;  ///< bum-rate=PPS
inline constexpr uint32_t kMaxVni = 0xffffff;         ///< RFC 7348 section 5: a 24-bit VNI
inline constexpr unsigned kMaxVxlanRemotes = 16;      ///< remote= VTEPs of one vxlan port
/// Largest vxlan mtu=: the inner frame (mtu + 14 Ethernet + 4 802.1Q) plus 8 VXLAN, 8 UDP and
/// 20 IPv4 header bytes must fit a 65535-byte IP datagram.
inline constexpr unsigned kMaxVxlanMtu = 65535 - 20 - 8 - 8 - 18;

}  // namespace uvs::config
