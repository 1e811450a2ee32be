// SPDX-License-Identifier: MIT
// CaptureSpec: one --capture (which port, which pcap file, direction, filter, rotation) and its
// parser.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/keyval.h"
#include "config/result.h"

namespace uvs::config {

/// Which frames of a port a capture sees, from the switch's point of view.
enum class CaptureDir {
  kIn,   ///< frames the port delivers to the switch (ingress)
  kOut,  ///< frames the switch sends out of the port (egress)
  kBoth,
};

/// "in", "out", "both".
const char* capture_dir_name(CaptureDir d);

/// --capture port=ID,file=PATH[,dir=in|out|both][,filter=BPF][,snaplen=N][,max-size=MB]
///           [,max-files=N][,mode=OCTAL]
struct CaptureSpec {
  std::string port;
  std::string file;           ///< pcap file, or "-": stream to the client that asked (run time)
  CaptureDir dir = CaptureDir::kBoth;
  std::string filter;         ///< BPF expression (pcap-filter(7)); empty captures everything
  unsigned snaplen = 262144;  ///< bytes kept per frame
  uint64_t max_size_mb = 0;   ///< rotate when the file reaches this size; 0: never
  unsigned max_files = 0;     ///< with max_size_mb: keep this many files; 0: no limit
  unsigned mode = 0600;       ///< permissions of the files (octal `mode=`); traffic is private
  bool operator==(const CaptureSpec&) const = default;
};

/// Parses one --capture value. A leading bare word is the port ("vm0,file=vm0.pcap" is
/// "port=vm0,file=vm0.pcap"), like QEMU's implied keys. Keys: port and file (required), dir,
/// filter, snaplen (1..262144), max-size (MB, 1..), max-files (needs max-size), mode
/// (octal, at most 0777; default 0600). A filter with
/// commas is written with ",," (keyval escaping). The file's directory must exist and the file must
/// not be a directory. Whether `port` names a real port is checked later, against the whole config.
/// Errors name the key ("snaplen: 0 is out of range 1..262144"). Reads the file system only to
/// check the output path. The BPF syntax is not checked here (config has no libpcap); the
/// capture code reports a bad filter when it compiles it.
Result<CaptureSpec> parse_capture_spec(std::string_view text);
/// The same from already split items (config file).
Result<CaptureSpec> parse_capture_spec(const Keyval& kv);

/// The canonical keyval text of `spec`; parse_capture_spec() of it gives back an equal spec.
std::string to_keyval(const CaptureSpec& spec);

}  // namespace uvs::config
