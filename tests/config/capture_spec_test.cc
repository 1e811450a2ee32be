// SPDX-License-Identifier: MIT
// Capture spec tests: keys, defaults, rotation rules, filter escaping and error messages.
#include <doctest/doctest.h>

#include "config/capture_spec.h"
#include "tests/config/temp_dir.h"

using namespace uvs::config;

namespace {
std::string error_of(const std::string& text) {
  auto r = parse_capture_spec(text);
  return r.ok() ? std::string() : r.error().message;
}
}  // namespace

TEST_CASE("capture: required keys and defaults") {
  uvs::config::test::TempDir dir;
  auto c = parse_capture_spec("port=vm0,file=" + dir.file("vm0.pcap"));
  REQUIRE(c.ok());
  CHECK(c->port == "vm0");
  CHECK(c->file == dir.file("vm0.pcap"));
  CHECK(c->dir == CaptureDir::kBoth);
  CHECK(c->filter.empty());
  CHECK(c->snaplen == 262144);
  CHECK(c->max_size_mb == 0);
  CHECK(c->max_files == 0);
  CHECK(c->mode == 0600);
  CHECK(error_of("file=x.pcap") == "missing required key 'port'");
  CHECK(error_of("port=vm0") == "missing required key 'file'");
}

TEST_CASE("capture: every key, with a filter containing an escaped comma") {
  uvs::config::test::TempDir dir;
  auto c = parse_capture_spec("port=vm0,file=" + dir.file("a.pcap") +
                              ",dir=in,filter=ether[0:1] & 1 = 0 or vlan 10,,20,snaplen=128,"
                              "max-size=10,max-files=3,mode=0640");
  REQUIRE(c.ok());
  CHECK(c->dir == CaptureDir::kIn);
  CHECK(c->mode == 0640);
  CHECK(c->filter == "ether[0:1] & 1 = 0 or vlan 10,20");
  CHECK(c->snaplen == 128);
  CHECK(c->max_size_mb == 10);
  CHECK(c->max_files == 3);
  auto again = parse_capture_spec(to_keyval(*c));
  REQUIRE(again.ok());
  CHECK(*again == *c);
}

TEST_CASE("capture: errors name the key") {
  uvs::config::test::TempDir dir;
  std::string f = ",file=" + dir.file("a.pcap");
  CHECK(error_of("port=vm0" + f + ",dir=sideways") == "dir: 'sideways' is not in, out or both");
  CHECK(error_of("port=vm0" + f + ",snaplen=0") == "snaplen: 0 is out of range 1..262144");
  CHECK(error_of("port=vm0" + f + ",snaplen=big") == "snaplen: 'big' is not a number");
  CHECK(error_of("port=vm0" + f + ",max-size=0") == "max-size: 0 is out of range 1..1048576");
  CHECK(error_of("port=vm0" + f + ",max-files=2") ==
        "max-files needs max-size (files rotate when they reach max-size)");
  CHECK(error_of("port=vm0" + f + ",snaplen=64,snaplen=96") ==
        "key 'snaplen' given twice ('64' and '96')");
  CHECK(error_of("port=vm0" + f + ",direction=in") ==
        "unknown key 'direction' (valid keys for a capture: port, file, dir, filter, snaplen, "
        "max-size, max-files, mode)");
  CHECK(error_of("port=vm0" + f + ",mode=0999") ==
        "mode: '0999' is not an octal mode of at most 0777 (e.g. 0660)");
  CHECK(error_of("port=vm0" + f + ",mode=4755") ==
        "mode: '4755' is not an octal mode of at most 0777 (e.g. 0660)");
  CHECK(error_of("port=vm0" + f + ",fliter=tcp") ==
        "unknown key 'fliter' (did you mean 'filter'?)");
  CHECK(error_of("port=vm0,file=" + dir.path()) == "file: '" + dir.path() + "' is a directory");
  CHECK(error_of("port=vm0,file=/nonexistent-dir/x.pcap") ==
        "file: '/nonexistent-dir/x.pcap': directory '/nonexistent-dir': No such file or directory");
  CHECK(error_of("port=vm0,file=a.pcap,verbose") ==
        "'verbose' has no value (write verbose=on or verbose=VALUE)");
  CHECK(error_of("") == "empty spec");
}

TEST_CASE("capture: a leading bare word is the port") {
  uvs::config::test::TempDir dir;
  auto c = parse_capture_spec("vm0,file=" + dir.file("a.pcap") + ",dir=out");
  REQUIRE(c.ok());
  CHECK(c->port == "vm0");
  CHECK(c->dir == CaptureDir::kOut);
  CHECK(error_of("vm0,port=vm1,file=" + dir.file("a.pcap")) ==
        "key 'port' given twice ('vm0' and 'vm1')");
}
