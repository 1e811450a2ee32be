// SPDX-License-Identifier: MIT
// NatSegments: large TCP segments through libslirp — each guest's advertised MSS per connection,
// the raised MSS libslirp is shown, and libslirp's output turned back into what guests negotiated.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "port/frame.h"

namespace uvs::slirpglue {

/// libslirp's interface MTU and MRU when large segments are on: the largest IP datagram a
/// 16-bit IPv4 total length and libslirp's mbufs carry (QEMU and slirp4netns allow the same).
inline constexpr uint32_t kSlirpLargeMtu = 65520;

/// Lets libslirp (run with MTU/MRU kSlirpLargeMtu) take a guest's TSO superframes whole and send
/// TCP segments up to 64 KiB, while every guest still receives only what it negotiated:
///
///  * Guest → libslirp: a TCP SYN (or SYN-ACK) carries the guest's MSS (RFC 9293 3.7.1); it is
///    remembered for the connection and the option is raised to what libslirp's MTU allows, so
///    libslirp's tcp_mss() (MIN(if_mtu, if_mru) - 40, and the peer's offer) picks large segments.
///  * libslirp → guests: a TCP segment longer than the connection's recorded MSS leaves as a GSO
///    frame (Gso::kTcpV4/kTcpV6, gso_size = that MSS, partial checksum) that the switch's
///    fallback segments for ports without TSO; an IPv4 datagram of another protocol longer than
///    the guests' MTU is fragmented (RFC 791 3.2) as libslirp's ip_output would have at that
///    MTU; IPv6 is left as libslirp built it (libslirp never fragments IPv6).
///
/// The MSS table is fixed-size (no allocation after construction); a connection it forgot is
/// cut at the MTU's MSS. Loop thread only.
class NatSegments {
 public:
  /// `mtu` is the guests' L2 MTU (the NAT port's mtu=).
  explicit NatSegments(uint32_t mtu);
  NatSegments(const NatSegments&) = delete;
  NatSegments& operator=(const NatSegments&) = delete;

  /// True when the untagged frame is a TCP SYN over IPv4/IPv6 (the frames on_guest_syn wants).
  static bool is_tcp_syn(const uint8_t* frame, size_t len) noexcept;
  /// Records the MSS a guest's SYN advertises (536 / 1220 when it has none, RFC 9293 3.7.1 and
  /// RFC 8200 5) and raises its MSS option in place, checksum updated (RFC 1624). Returns true
  /// when the option was raised. Malformed frames are left alone.
  bool on_guest_syn(uint8_t* frame, size_t len) noexcept;

  /// What start() made of a frame from libslirp.
  enum class Out : uint8_t { kPlain, kGso, kFragments, kDropDf };
  /// Prepares one frame libslirp sent (`data` must stay valid while the frames are used): then
  /// next() until empty. kDropDf: an IPv4 datagram larger than the MTU with DF set (dropped, as
  /// ip_output would).
  Out start(const uint8_t* data, size_t len) noexcept;
  /// The next frames (at most port::kMaxBurst), valid until the next start()/next().
  std::span<const port::Frame> next() noexcept;

  uint64_t table_evictions() const noexcept { return evictions_; }

 private:
  struct Key {
    uint8_t guest[16];
    uint8_t remote[16];
    uint16_t guest_port;
    uint16_t remote_port;
    bool operator==(const Key&) const = default;
  };
  struct Entry {
    Key key;
    uint16_t mss;
    bool used;
    uint32_t stamp;
  };
  static constexpr size_t kMaxHdr = 14 + 60 + 60;  // Ethernet, IPv4 with options, TCP with options
  static constexpr size_t kEntries = 4096;  // power of two
  static constexpr size_t kProbe = 8;
  static size_t hash(const Key& k) noexcept;
  void remember(const Key& k, uint16_t mss) noexcept;
  uint16_t mss_for(const Key& k, bool v6) const noexcept;
  Out start_tcp(const uint8_t* data, size_t len, size_t l3, size_t l4, size_t hlen, size_t end,
                bool v6) noexcept;
  Out start_fragments(const uint8_t* data, size_t len) noexcept;

  uint32_t mtu_;
  std::vector<Entry> table_;
  uint32_t clock_ = 0;
  uint64_t evictions_ = 0;

  // Output of start()/next().
  const uint8_t* in_ = nullptr;
  size_t in_len_ = 0;
  bool done_ = true;
  bool fragmenting_ = false;
  size_t frag_pos_ = 0;     // next payload byte of the datagram to emit (from the IP payload)
  size_t frag_ihl_ = 0;
  size_t frag_total_ = 0;   // IP payload bytes
  uint8_t hdr_[port::kMaxBurst][kMaxHdr];
  iovec iov_[port::kMaxBurst][2];
  port::Frame out_[port::kMaxBurst];
};

}  // namespace uvs::slirpglue
