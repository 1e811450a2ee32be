// SPDX-License-Identifier: MIT
// libFuzzer target: keyval splitting, --port / --capture specs, options and TOML config files.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/capture_spec.h"
#include "config/config_file.h"
#include "config/config_layer.h"
#include "config/config_merge.h"
#include "config/keyval.h"
#include "config/port_spec.h"
#include "config/port_spec_parser.h"

using namespace uvs::config;

namespace {

[[noreturn]] void fail() { __builtin_trap(); }

// Every successful parse must print back to text that parses to the same thing: the control
// socket's port-add and `uvswitchctl` show rely on to_keyval() being faithful.
void port_spec(std::string_view text) {
  Result<PortSpec> r = parse_port_spec(text);
  if (!r) {
    if (r.error().message.empty()) fail();
    return;
  }
  const std::string back = to_keyval(r.value());
  Result<PortSpec> again = parse_port_spec(back);
  if (!again || !(again.value() == r.value())) fail();
  (void)port_settings(r.value());
}

void capture_spec(std::string_view text) {
  Result<CaptureSpec> r = parse_capture_spec(text);
  if (!r) {
    if (r.error().message.empty()) fail();
    return;
  }
  Result<CaptureSpec> again = parse_capture_spec(to_keyval(r.value()));
  if (!again || !(again.value() == r.value())) fail();
}

void keyval(std::string_view text, KeyvalType rule) {
  Result<Keyval> r = parse_keyval(text, rule);
  if (!r) return;
  // Escaping a value and splitting it again gives the value back as one item.
  for (const KeyvalItem& it : r.value().items) {
    if (it.key.empty() || it.value.empty()) fail();
    std::string spec = it.key + "=" + escape_keyval_value(it.value);
    Result<Keyval> one = parse_keyval(spec, KeyvalType::kNone);
    if (!one || one.value().items.size() != 1 || one.value().items[0].value != it.value) fail();
  }
}

void config_text(std::string_view text) {
  Result<ConfigLayer> file = parse_config_text(text, "fuzz.toml");
  if (!file) {
    if (file.error().message.empty()) fail();
    return;
  }
  Environment env;
  env.online_cpus = 2;
  env.runtime_dir = "/nonexistent-uvs-fuzz";
  (void)merge_config(file.value(), ConfigLayer{}, env);
}

// One option as the command line gives it: KEY '\0' VALUE.
void option(std::string_view text) {
  size_t nul = text.find('\0');
  if (nul == std::string_view::npos) return;
  ConfigLayer layer;
  (void)layer.set_option(text.substr(0, nul), text.substr(nul + 1), "--fuzz");
}

}  // namespace

// Input: byte 0 picks the parser, the rest is its text.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 6) {
    case 0: keyval(text, KeyvalType::kLeading); break;
    case 1: keyval(text, KeyvalType::kNone); break;
    case 2: port_spec(text); break;
    case 3: capture_spec(text); break;
    case 4: config_text(text); break;
    case 5: option(text); break;
  }
  return 0;
}
