// SPDX-License-Identifier: MIT
// CaptureSpec parsing and its canonical keyval text.
#include "config/capture_spec.h"

#include "config/file_access.h"
#include "config/key_reader.h"
#include "config/limits.h"
#include "config/path_check.h"

namespace uvs::config {
namespace {

constexpr KeyRule kCaptureKeys[] = {{"port"},    {"file"},     {"dir"},      {"filter"},
                                    {"snaplen"}, {"max-size"}, {"max-files"}, {"mode"}};

Result<CaptureDir> parse_dir(std::string_view v) {
  if (v == "in") return CaptureDir::kIn;
  if (v == "out") return CaptureDir::kOut;
  if (v == "both") return CaptureDir::kBoth;
  return Error::make(ConfigError::kBadValue, "'" + std::string(v) + "' is not in, out or both");
}

Result<std::string> parse_file(std::string_view v) {
  // "-": a live stream to the client (uvswitchctl capture-start), not a path.
  if (v == "-") return std::string(v);
  UVS_CFG_RETURN_IF_ERROR(check_output_file(v));
  return std::string(v);
}

}  // namespace

const char* capture_dir_name(CaptureDir d) {
  switch (d) {
    case CaptureDir::kIn:
      return "in";
    case CaptureDir::kOut:
      return "out";
    case CaptureDir::kBoth:
      return "both";
  }
  return "both";
}

Result<CaptureSpec> parse_capture_spec(std::string_view text) {
  // QEMU-style implied key: a leading bare word is the port ("vm0,file=vm0.pcap").
  std::vector<std::string> items = split_keyval_items(text);
  std::string full(text);
  if (!text.empty() && items[0].find('=') == std::string::npos) full = "port=" + full;
  UVS_CFG_ASSIGN_OR_RETURN(Keyval kv, parse_keyval(full, KeyvalType::kNone));
  return parse_capture_spec(kv);
}

Result<CaptureSpec> parse_capture_spec(const Keyval& kv) {
  KeyReader r(kv);
  CaptureSpec c;
  UVS_CFG_RETURN_IF_ERROR(r.check_keys(kCaptureKeys, "capture"));
  UVS_CFG_RETURN_IF_ERROR(r.read_required("port", &c.port, text_value));
  UVS_CFG_RETURN_IF_ERROR(r.read_required("file", &c.file, parse_file));
  UVS_CFG_RETURN_IF_ERROR(r.read("dir", &c.dir, parse_dir));
  UVS_CFG_RETURN_IF_ERROR(r.read("filter", &c.filter, text_value));
  UVS_CFG_RETURN_IF_ERROR(r.read("snaplen", &c.snaplen, uint_in(1, kMaxSnaplen)));
  UVS_CFG_RETURN_IF_ERROR(r.read("max-size", &c.max_size_mb, uint_in<uint64_t>(1, kMaxCaptureMb)));
  UVS_CFG_RETURN_IF_ERROR(r.read("max-files", &c.max_files, uint_in(1, kMaxCaptureFiles)));
  UVS_CFG_RETURN_IF_ERROR(r.read("mode", &c.mode, parse_file_mode));
  if (r.has("max-files") && !r.has("max-size")) {
    return Error::make(ConfigError::kConflict,
                       "max-files needs max-size (files rotate when they reach max-size)",
                       "max-files");
  }
  return c;
}

std::string to_keyval(const CaptureSpec& spec) {
  std::string out = "port=" + escape_keyval_value(spec.port) +
                    ",file=" + escape_keyval_value(spec.file) +
                    ",dir=" + capture_dir_name(spec.dir);
  if (!spec.filter.empty()) out += ",filter=" + escape_keyval_value(spec.filter);
  out += ",snaplen=" + std::to_string(spec.snaplen);
  if (spec.max_size_mb) out += ",max-size=" + std::to_string(spec.max_size_mb);
  if (spec.max_files) out += ",max-files=" + std::to_string(spec.max_files);
  if (spec.mode != CaptureSpec{}.mode) out += ",mode=" + file_mode_text(spec.mode);
  return out;
}

}  // namespace uvs::config
