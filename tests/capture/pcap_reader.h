// SPDX-License-Identifier: MIT
// Test helpers: read a pcap file back with libpcap (nanosecond precision).
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tests/config/temp_dir.h"

namespace uvs::bridge::test {

/// The scratch directory the config tests already use: files under /tmp, removed afterwards.
using config::test::TempDir;

struct PcapFrame {
  int64_t ts_ns = 0;
  uint32_t caplen = 0;
  uint32_t len = 0;
  std::vector<uint8_t> data;
};

struct PcapFile {
  bool ok = false;
  std::string error;
  int linktype = -1;
  bool nano = false;  ///< the file carries nanosecond timestamps
  std::vector<PcapFrame> frames;
};

/// Every frame of `path`, or ok=false with libpcap's error.
inline PcapFile read_pcap(const std::string& path) {
  PcapFile out;
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) {
    out.error = err;
    return out;
  }
  out.linktype = pcap_datalink(p);
  out.nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  int rc;
  while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
    PcapFrame f;
    f.ts_ns = int64_t(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec;
    f.caplen = h->caplen;
    f.len = h->len;
    f.data.assign(data, data + h->caplen);
    out.frames.push_back(std::move(f));
  }
  out.ok = rc == PCAP_ERROR_BREAK;  // clean end of file
  if (!out.ok) out.error = pcap_geterr(p);
  pcap_close(p);
  return out;
}

}  // namespace uvs::bridge::test
