// SPDX-License-Identifier: MIT
// extcap sentences, following the grammar of Wireshark's extcap(4) man page.
#include "tools/extcap/extcap_sentences.h"

#include "config/capture_spec.h"

namespace uvs::extcap {
namespace {

// extcap(4) values are delimited by braces and lines; a value holding one cannot be written.
bool printable(std::string_view s) {
  return s.find_first_of("{}\n\r") == std::string_view::npos;
}

}  // namespace

std::string interfaces_text(const nlohmann::ordered_json& ports, std::string_view version) {
  std::string out = "extcap {version=" + std::string(version) +
                    "}{help=https://www.wireshark.org/docs/man-pages/extcap.html}\n";
  if (!ports.is_array()) return out;
  for (const auto& p : ports) {
    if (!p.is_object() || !p.contains("id") || !p["id"].is_string()) continue;
    const std::string id = p["id"].get<std::string>();
    const std::string type = p.value("type", std::string("port"));
    if (!printable(id) || !printable(type)) continue;
    out += "interface {value=" + std::string(kInterfacePrefix) + id + "}{display=uvswitch port " +
           id + " (" + type + ")}\n";
  }
  return out;
}

std::string dlts_text() { return "dlt {number=1}{name=EN10MB}{display=Ethernet}\n"; }

std::string config_text(std::string_view default_control) {
  std::string out;
  out += "arg {number=0}{call=--control}{display=Control socket}{type=fileselect}"
         "{mustexist=true}";
  if (printable(default_control)) out += "{default=" + std::string(default_control) + "}";
  out += "{tooltip=The uvswitch daemon's control socket (uvswitch --control)}\n";
  out += "arg {number=1}{call=--filter}{display=BPF filter}{type=string}"
         "{tooltip=A pcap-filter(7) expression the switch applies before copying frames}\n";
  out += "arg {number=2}{call=--direction}{display=Direction}{type=selector}"
         "{tooltip=Frames the port delivers to the switch (in), the switch sends out of it "
         "(out), or both}\n";
  out += "value {arg=2}{value=both}{display=Both}{default=true}\n";
  out += "value {arg=2}{value=in}{display=In (from the port)}{default=false}\n";
  out += "value {arg=2}{value=out}{display=Out (to the port)}{default=false}\n";
  return out;
}

std::optional<std::string> port_of_interface(std::string_view interface) {
  if (interface.size() <= kInterfacePrefix.size() ||
      interface.substr(0, kInterfacePrefix.size()) != kInterfacePrefix) {
    return std::nullopt;
  }
  return std::string(interface.substr(kInterfacePrefix.size()));
}

config::Result<std::string> stream_spec(const std::string& port, const std::string& filter,
                                        const std::string& capture_filter,
                                        const std::string& direction) {
  config::Result<config::CaptureSpec> base =
      config::parse_capture_spec(config::to_keyval(config::CaptureSpec{port, "-"}));
  if (!base) return base.error();
  config::CaptureSpec spec = *base;
  if (direction == "in") {
    spec.dir = config::CaptureDir::kIn;
  } else if (direction == "out") {
    spec.dir = config::CaptureDir::kOut;
  } else if (direction == "both" || direction.empty()) {
    spec.dir = config::CaptureDir::kBoth;
  } else {
    return config::Error::make(config::ConfigError::kBadValue,
                               "--direction: '" + direction + "' is not in, out or both",
                               "direction");
  }
  if (!filter.empty() && !capture_filter.empty()) {
    spec.filter = "(" + filter + ") and (" + capture_filter + ")";
  } else {
    spec.filter = filter.empty() ? capture_filter : filter;
  }
  return config::to_keyval(spec);
}

}  // namespace uvs::extcap
