// SPDX-License-Identifier: MIT
// Value readers shared by the port types.
#include "config/port_key_readers.h"

#include "config/path_check.h"
#include "config/value_parser.h"

namespace uvs::config {

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

const char* on_off(bool b) {
  return b ? "on" : "off";
}

Result<uint16_t> parse_port_number(std::string_view text) {
  auto p = parse_uint(text, 1, 65535);
  if (!p) return Error::make(p.error().code, "port " + p.error().message);
  return static_cast<uint16_t>(*p);
}

Result<std::string> parse_socket_path(std::string_view text) {
  UVS_CFG_RETURN_IF_ERROR(check_socket_path(text));
  return std::string(text);
}

}  // namespace uvs::config
