// SPDX-License-Identifier: MIT
// The vhost-user port type's keys: reading, checking, canonical settings and --help text.
#include "config/vhost_user_port_spec.h"

#include <algorithm>
#include <string_view>

#include "config/fd_check.h"
#include "config/limits.h"
#include "config/path_check.h"
#include "config/port_key_readers.h"
#include "config/port_spec_parser.h"
#include "config/port_types.h"
#include "config/value_parser.h"

namespace uvs::config {
namespace {

constexpr KeyRule kVhostUserKeys[] = {
    {.name = "path", .value = "SOCK",
     .help = "the unix socket (QEMU: -chardev socket,path=SOCK -netdev "
              "vhost-user,chardev=...)."},
    {.name = "fd", .value = "N",
     .help = "an inherited socket instead of path, connected (as libvirt passes it) or "
              "listening (not with path= or server=; only at start-up, port-add refuses it)."},
    {.name = "server", .value = "on|off",
     .help = "on (default): uvswitch listens on SOCK and QEMU connects; off: uvswitch "
              "connects to SOCK."},
    {.name = "queues", .value = "N",
     .help = "queue pairs, 1..64 (default 1)."},
    {.name = "threads", .value = "LIST|auto",
     .help = "the I/O threads the queue pairs run on, e.g. 0-3 or 1:3: pair p on the (p mod "
              "n)-th listed thread, the first also serves the socket; at most queues threads, "
              "not with thread=. auto: min(queues, --threads) threads, the least loaded first. "
              "Default: every pair on the port's one thread. One flow always uses one queue, "
              "so its frames stay in order."},
    {.name = "mac", .value = "MAC",
     .help = "the guest's MAC, offered in the device config space (default: none offered)."},
    {.name = "mtu", .value = "N",
     .help = "the MTU offered to the guest (VIRTIO_NET_F_MTU; default: none offered)."},
    {.name = "mode", .value = "OCTAL",
     .help = "the listening socket's permissions (default: as bind() makes it, owner and "
              "root only), e.g. mode=0660."},
    {.name = "group", .value = "GROUP",
     .help = "the listening socket's group, e.g. group=libvirt-qemu."},
    {.name = "offload", .value = "on|off",
     .help = "on (default): offer checksum and TSO offloads (virtio-net CSUM, GUEST_CSUM, "
              "HOST_/GUEST_TSO4, TSO6, ECN); off: the guest sends and gets only plain frames."},
    {.name = "migration", .value = "on|off",
     .help = "on (default): offer VHOST_F_LOG_ALL so QEMU can live-migrate the guest; off: "
              "QEMU refuses to migrate it."},
};

// threads=: I/O thread indices and inclusive ranges separated by ':' (the keyval list syntax,
// as trunk=), e.g. "0-3" or "1:3", in the order given (the first serves the socket), each once.
Result<std::vector<unsigned>> parse_thread_list(std::string_view text) {
  std::vector<unsigned> out;
  if (text.empty()) return Error::make(ConfigError::kBadValue, "empty thread list");
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(':', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view item = text.substr(pos, end - pos);
    const size_t dash = item.find('-');
    auto first = parse_uint(item.substr(0, dash), 0, kMaxThreads - 1);
    if (!first) {
      return Error::make(ConfigError::kBadValue,
                         "in thread list '" + std::string(text) + "': " + first.error().message);
    }
    uint64_t last = *first;
    if (dash != std::string_view::npos) {
      auto l = parse_uint(item.substr(dash + 1), 0, kMaxThreads - 1);
      if (!l || *l < *first) {
        return Error::make(ConfigError::kBadValue, "in thread list '" + std::string(text) +
                                                       "': bad range '" + std::string(item) +
                                                       "' (want FIRST-LAST, FIRST <= LAST)");
      }
      last = *l;
    }
    for (uint64_t t = *first; t <= last; ++t) {
      if (std::find(out.begin(), out.end(), unsigned(t)) != out.end()) {
        return Error::make(ConfigError::kBadValue, "thread list '" + std::string(text) +
                                                       "' names thread " + std::to_string(t) +
                                                       " twice");
      }
      out.push_back(unsigned(t));
    }
    pos = end + 1;
  }
  return out;
}

// threads=auto against a list: true only for the word itself, so "0-3" goes on to the list.
Result<bool> is_auto(std::string_view text) {
  return text == "auto";
}

Result<PortBackend> read_vhost_user(const KeyReader& r) {
  VhostUserPortSpec s;
  if (r.has("fd")) {
    // An inherited socket already is what path= and server= would make of a path.
    if (r.has("path")) {
      return Error::make(ConfigError::kConflict,
                         "fd and path exclude each other (fd=N: an inherited socket; path=: a "
                         "socket uvswitch opens)",
                         "fd");
    }
    if (r.has("server")) {
      return Error::make(ConfigError::kConflict,
                         "fd and server exclude each other (an inherited socket is connected "
                         "or listening already)",
                         "fd");
    }
    UVS_CFG_RETURN_IF_ERROR(r.read("fd", &s.fd, parse_socket_fd));
  } else {
    if (!r.has("path")) {
      return Error::make(ConfigError::kMissingKey,
                         "missing required key 'path' (unix socket) or 'fd' (inherited socket)",
                         "path");
    }
    UVS_CFG_RETURN_IF_ERROR(r.read("path", &s.path, parse_socket_path));
    UVS_CFG_RETURN_IF_ERROR(r.read("server", &s.server, parse_bool));
  }
  UVS_CFG_RETURN_IF_ERROR(r.read("queues", &s.queues, uint_in(1, kMaxQueuePairs)));
  if (r.has("threads")) {
    if (r.has("thread")) {
      return Error::make(ConfigError::kConflict,
                         "thread and threads exclude each other (thread=N: every queue pair on "
                         "one thread; threads=LIST: queue pairs spread over several)",
                         "threads");
    }
    UVS_CFG_RETURN_IF_ERROR(r.read("threads", &s.threads_auto, is_auto));
    if (!s.threads_auto) {
      UVS_CFG_RETURN_IF_ERROR(r.read("threads", &s.threads, parse_thread_list));
    }
    if (s.threads.size() > s.queues) {
      return Error::make(ConfigError::kConflict,
                         "threads lists " + std::to_string(s.threads.size()) +
                             " threads but queues=" + std::to_string(s.queues) +
                             ": each thread needs a queue pair of its own",
                         "threads");
    }
  }
  UVS_CFG_RETURN_IF_ERROR(r.read("mac", &s.mac, parse_mac));
  UVS_CFG_RETURN_IF_ERROR(r.read("mtu", &s.mtu, uint_in(kMinMtu, kMaxMtu)));
  UVS_CFG_RETURN_IF_ERROR(read_access(
      r, &s, s.fd ? "an inherited fd" : (!s.server ? "a client (server=off)" : nullptr)));
  UVS_CFG_RETURN_IF_ERROR(r.read("offload", &s.offload, parse_bool));
  UVS_CFG_RETURN_IF_ERROR(r.read("migration", &s.migration, parse_bool));
  return PortBackend(std::move(s));
}

void write_vhost_user(const PortBackend& b, PortSettings* out_list) {
  const auto& s = b.get<VhostUserPortSpec>();
  PortSettings& out = *out_list;
  if (s.fd) {
    out.emplace_back("fd", std::to_string(*s.fd));
  } else {
    out.emplace_back("path", s.path);
    out.emplace_back("server", on_off(s.server));
  }
  out.emplace_back("queues", std::to_string(s.queues));
  if (s.threads_auto) {
    out.emplace_back("threads", "auto");
  } else if (!s.threads.empty()) {
    std::string list;
    for (unsigned t : s.threads) list += (list.empty() ? "" : ":") + std::to_string(t);
    out.emplace_back("threads", list);
  }
  if (s.mac) out.emplace_back("mac", s.mac->to_string());
  if (s.mtu) out.emplace_back("mtu", std::to_string(*s.mtu));
  write_access(s, &out);
  out.emplace_back("offload", on_off(s.offload));
  out.emplace_back("migration", on_off(s.migration));
}

PortClaims claims_vhost_user(const PortBackend& b) {
  const auto& s = b.get<VhostUserPortSpec>();
  PortClaims c;
  c.socket_path = s.path;  // empty with fd=
  if (s.fd) c.resource = "fd=" + std::to_string(*s.fd);
  return c;
}

}  // namespace

const PortTypeInfo kVhostUserPortType{
    .name = "vhost-user",
    .keys = kVhostUserKeys,
    .trunk = true,
    .read = read_vhost_user,
    .write = write_vhost_user,
    .claims = claims_vhost_user,
    .usage = "vhost-user,id=ID,path=SOCK|fd=N[,server=on|off][,queues=N][,threads=LIST|auto]\n"
             "[,mac=MAC][,mtu=N][,offload=on|off][,migration=on|off]",
    .summary = "a QEMU guest's virtio-net device: uvswitch is the vhost-user backend.",
};

}  // namespace uvs::config
