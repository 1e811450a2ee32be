// SPDX-License-Identifier: MIT
// CaptureTable: the daemon's running captures by id: start (checked up front), stop, list, reap.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/capture_spec.h"
#include "switch/bridge.h"
#include "switch/capture.h"
#include "tools/uvswitch/command_table.h"

namespace uvs::daemon {

/// Captures by id (1, 2, ... never reused while the daemon runs). Control thread only.
class CaptureTable {
 public:
  explicit CaptureTable(bridge::Bridge& bridge) : bridge_(bridge) {}
  ~CaptureTable();  ///< stops every capture (files are closed valid); the bridge must still run
  CaptureTable(const CaptureTable&) = delete;
  CaptureTable& operator=(const CaptureTable&) = delete;

  /// Starts `spec`. With `stream_fd` >= 0 (ownership passes, even on failure) and file "-" the
  /// pcap stream goes to that descriptor. Everything is checked before anything starts: the
  /// port exists, the filter compiles, the file opens; on failure `*error` names the port and
  /// the cause and nothing is left behind. Returns the new capture's id.
  std::optional<unsigned> start(const config::CaptureSpec& spec, int stream_fd,
                                std::string* error);
  /// Stops capture `id`, or every capture of `port` when id is absent (then `port` must be
  /// given). Returns the ids stopped; empty with `*error` when nothing matched.
  std::vector<unsigned> stop(const std::string& port, std::optional<unsigned> id,
                             std::string* error);
  /// Each running capture: id, port, file, dir, filter, snaplen, rotation and counters.
  Json list();
  /// Ends captures that cannot continue: their port was removed, or their writer failed (a
  /// stream reader went away, the disk filled). Their files are closed valid.
  void reap();
  void stop_all();

 private:
  struct Entry {
    unsigned id = 0;
    config::CaptureSpec spec;
    std::unique_ptr<bridge::Capture> capture;
  };
  void finish(Entry& e);

  bridge::Bridge& bridge_;
  std::vector<Entry> captures_;
  unsigned next_id_ = 1;
};

}  // namespace uvs::daemon
