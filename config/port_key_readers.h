// SPDX-License-Identifier: MIT
// Value readers and writers that several port types share: quoting, on/off, port numbers, socket
// paths, and the mode= / group= keys of a unix socket uvswitch listens on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/config_error.h"
#include "config/file_access.h"
#include "config/key_reader.h"
#include "config/port_types.h"
#include "config/result.h"

namespace uvs::config {

/// "'text'" for messages.
std::string quoted(std::string_view s);

/// "on" / "off", as parse_bool reads them.
const char* on_off(bool b);

/// A UDP or TCP port number, 1..65535.
Result<uint16_t> parse_port_number(std::string_view text);

/// A unix socket path that is absent or a socket (check_socket_path).
Result<std::string> parse_socket_path(std::string_view text);

/// mode= and group= of a unix socket uvswitch listens on; `why_not` is set when this port has
/// no such socket (a client, an inherited fd, TCP), and refuses the keys naming the reason.
template <typename Spec>
Result<void> read_access(const KeyReader& r, Spec* s, const char* why_not) {
  if (!r.has("mode") && !r.has("group")) return {};
  const char* key = r.has("mode") ? "mode" : "group";
  if (why_not) {
    return Error::make(ConfigError::kConflict,
                       std::string(key) + " applies to a unix socket uvswitch listens on, not " +
                           why_not,
                       key);
  }
  UVS_CFG_RETURN_IF_ERROR(r.read("mode", &s->mode, parse_file_mode));
  UVS_CFG_RETURN_IF_ERROR(r.read("group", &s->group, parse_group));
  return {};
}

/// Appends mode= and group= when they are set.
template <typename Spec>
void write_access(const Spec& s, PortSettings* out) {
  if (s.mode) out->emplace_back("mode", file_mode_text(*s.mode));
  if (s.group) out->emplace_back("group", s.group->name);
}

}  // namespace uvs::config
