// SPDX-License-Identifier: MIT
// Host port forwards of a NAT port: overlap checks, libslirp hostxfwd calls, and their text form.
#include <arpa/inet.h>
#include <libslirp.h>

#include <cerrno>
#include <cstring>

#include "slirp-glue/nat_port.h"
#include "slirp-glue/slirp_lock.h"

namespace uvs::slirpglue {
namespace {

bool is_any(const NatForward& f) {
  if (f.host_v6) return IN6_IS_ADDR_UNSPECIFIED(&f.host6);
  return f.host4.s_addr == INADDR_ANY;
}

bool same_host_addr(const NatForward& a, const NatForward& b) {
  if (a.host_v6 != b.host_v6) return false;
  if (a.host_v6) return std::memcmp(&a.host6, &b.host6, sizeof a.host6) == 0;
  return a.host4.s_addr == b.host4.s_addr;
}

// The host side as the sockaddr libslirp binds; returns its length.
socklen_t host_sockaddr(const NatForward& f, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof *ss);
  if (f.host_v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_addr = f.host6;
    s6->sin6_port = htons(f.host_port);
    return sizeof *s6;
  }
  auto* s4 = reinterpret_cast<sockaddr_in*>(ss);
  s4->sin_family = AF_INET;
  s4->sin_addr = f.host4;
  s4->sin_port = htons(f.host_port);
  return sizeof *s4;
}

int slirp_flags(const NatForward& f) {
  // An IPv6 host address binds IPv6 only: [::] must not also take the IPv4 port.
  return (f.udp ? SLIRP_HOSTFWD_UDP : 0) | (f.host_v6 ? SLIRP_HOSTFWD_V6ONLY : 0);
}

}  // namespace

std::string NatForward::to_string() const {
  char host[INET6_ADDRSTRLEN] = {};
  char guest_text[INET_ADDRSTRLEN] = {};
  if (host_v6) {
    inet_ntop(AF_INET6, &host6, host, sizeof host);
  } else {
    inet_ntop(AF_INET, &host4, host, sizeof host);
  }
  std::string g;
  if (guest.s_addr != INADDR_ANY) {
    inet_ntop(AF_INET, &guest, guest_text, sizeof guest_text);
    g = guest_text;
  }
  std::string h = host_v6 ? "[" + std::string(host) + "]" : std::string(host);
  return std::string(udp ? "udp" : "tcp") + ":" + h + ":" + std::to_string(host_port) + "-" + g +
         ":" + std::to_string(guest_port);
}

bool NatForward::overlaps(const NatForward& o) const {
  if (udp != o.udp || host_port != o.host_port || host_v6 != o.host_v6) return false;
  return same_host_addr(*this, o) || is_any(*this) || is_any(o);
}

bool NatForward::same_host_side(const NatForward& o) const {
  return udp == o.udp && host_port == o.host_port && same_host_addr(*this, o);
}

NatStatus NatPort::add_forward(const NatForward& in) {
  NatForward fwd = in;
  if (fwd.guest.s_addr == INADDR_ANY) fwd.guest = opts_.dhcp_start;  // QEMU's default
  const std::string label = "nat " + opts_.name + ": hostfwd " + fwd.to_string();
  if (!slirp_) return NatStatus::fail(NatErrc::kState, label + ": the NAT is not running");
  if (fwd.host_v6) {
    // slirp_add_hostxfwd binds [addr]:port and accepts, but libslirp 4.7 then drops every
    // connection it accepted there toward an IPv4 guest (checked: nothing reaches the guest),
    // and the guest side of a rule is IPv4 only. Refuse rather than listen uselessly.
    return NatStatus::fail(NatErrc::kBadOption,
                           label + ": libslirp 4.7 cannot forward an IPv6 host address to the "
                                   "IPv4 guest network; use an IPv4 host address");
  }
  for (const NatForward& f : forwards_) {
    if (fwd.overlaps(f)) {
      return NatStatus::fail(NatErrc::kOverlap,
                             label + ": overlaps the forward " + f.to_string() + " in effect");
    }
  }
  if ((fwd.guest.s_addr & opts_.mask.s_addr) != opts_.net.s_addr) {
    return NatStatus::fail(NatErrc::kBadOption, label + ": guest address is outside the NAT's net");
  }
  sockaddr_storage host;
  socklen_t hlen = host_sockaddr(fwd, &host);
  sockaddr_in guest{};
  guest.sin_family = AF_INET;
  guest.sin_addr = fwd.guest;
  guest.sin_port = htons(fwd.guest_port);
  int rc;
  int err;
  {
    Entry busy(*this);
    errno = 0;
    rc = slirp_add_hostxfwd(slirp_, reinterpret_cast<const sockaddr*>(&host), hlen,
                            reinterpret_cast<const sockaddr*>(&guest), sizeof guest,
                            slirp_flags(fwd));
    err = errno;
  }
  if (rc < 0) {
    std::string why = err ? std::strerror(err) : "libslirp refused it";
    return NatStatus::fail(NatErrc::kBind, label + ": cannot bind the host port: " + why);
  }
  forwards_.push_back(fwd);
  schedule_pass();  // the new listening socket needs its interest set
  return NatStatus::ok();
}

NatStatus NatPort::remove_forward(const NatForward& fwd) {
  const std::string label = "nat " + opts_.name + ": hostfwd " + fwd.to_string();
  if (!slirp_) return NatStatus::fail(NatErrc::kState, label + ": the NAT is not running");
  for (auto it = forwards_.begin(); it != forwards_.end(); ++it) {
    if (!it->same_host_side(fwd)) continue;
    sockaddr_storage host;
    socklen_t hlen = host_sockaddr(*it, &host);
    {
      Entry busy(*this);
      slirp_remove_hostxfwd(slirp_, reinterpret_cast<const sockaddr*>(&host), hlen,
                            slirp_flags(*it));
    }
    forwards_.erase(it);
    schedule_pass();
    return NatStatus::ok();
  }
  return NatStatus::fail(NatErrc::kNotFound, label + ": no such forward");
}

}  // namespace uvs::slirpglue
