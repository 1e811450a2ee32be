// SPDX-License-Identifier: MIT
// CaptureTable: CaptureSpec to bridge::Capture, attach/detach ordering, the `captures` listing.
#include "tools/uvswitch/capture_table.h"

#include <unistd.h>

#include "tools/uvswitch/log.h"

namespace uvs::daemon {

CaptureTable::~CaptureTable() { stop_all(); }

std::optional<unsigned> CaptureTable::start(const config::CaptureSpec& spec, int stream_fd,
                                            std::string* error) {
  const bool stream = spec.file == "-";
  if (stream && stream_fd < 0) {
    *error = "capture of " + spec.port +
             ": file=- streams to the client and needs a descriptor passed with the request "
             "(uvswitchctl capture-start does that)";
    return std::nullopt;
  }
  if (!stream && stream_fd >= 0) {
    ::close(stream_fd);  // passed but not asked for: not ours to keep
    stream_fd = -1;
  }
  // The port first: a bad filter or path on a port that does not exist should name the port.
  if (!bridge_.find_port(spec.port)) {
    if (stream_fd >= 0) ::close(stream_fd);
    *error = "capture of " + spec.port + ": port '" + spec.port + "' does not exist";
    return std::nullopt;
  }
  bridge::CaptureOptions o;
  o.port = spec.port;
  o.path = stream ? std::string() : spec.file;
  o.stream_fd = stream_fd;
  o.ingress = spec.dir != config::CaptureDir::kOut;
  o.egress = spec.dir != config::CaptureDir::kIn;
  o.filter = spec.filter;
  o.snaplen = spec.snaplen;
  o.max_bytes = spec.max_size_mb * 1'000'000;
  o.max_files = spec.max_files;
  o.mode = spec.mode;
  std::unique_ptr<bridge::Capture> cap = bridge::Capture::create(std::move(o), error);
  if (!cap) return std::nullopt;
  bridge::Result<bridge::PortIndex> at = bridge_.attach_capture(spec.port, *cap);
  if (!at) {
    cap->stop();
    *error = "capture of " + spec.port + ": " + at.error().message;
    return std::nullopt;
  }
  const unsigned id = next_id_++;
  captures_.push_back(Entry{id, spec, std::move(cap)});
  log(LogLevel::kInfo, "capture " + std::to_string(id) + " started: " + config::to_keyval(spec));
  return id;
}

void CaptureTable::finish(Entry& e) {
  // Detach first: once the port thread has let go, the writer's last drain sees every frame.
  bridge_.detach_capture(*e.capture);
  e.capture->stop();
  const bridge::CaptureCounts c = e.capture->counts();
  log(LogLevel::kInfo, "capture " + std::to_string(e.id) + " of " + e.spec.port + " stopped: " +
                           std::to_string(c.written) + " written, " +
                           std::to_string(c.filtered_out) + " filtered out, " +
                           std::to_string(c.dropped) + " dropped" +
                           (c.error.empty() ? "" : " (" + c.error + ")"));
}

std::vector<unsigned> CaptureTable::stop(const std::string& port, std::optional<unsigned> id,
                                         std::string* error) {
  reap();
  std::vector<unsigned> stopped;
  for (auto it = captures_.begin(); it != captures_.end();) {
    const bool match = id ? it->id == *id && (port.empty() || it->spec.port == port)
                          : it->spec.port == port;
    if (!match) {
      ++it;
      continue;
    }
    finish(*it);
    stopped.push_back(it->id);
    it = captures_.erase(it);
  }
  if (stopped.empty()) {
    if (id) {
      *error = "no running capture with id " + std::to_string(*id) +
               (port.empty() ? std::string() : " on port " + port);
    } else {
      *error = "no running capture on port " + port;
    }
  }
  return stopped;
}

void CaptureTable::reap() {
  for (auto it = captures_.begin(); it != captures_.end();) {
    if (it->capture->port_gone() || it->capture->failed()) {
      finish(*it);
      it = captures_.erase(it);
    } else {
      ++it;
    }
  }
}

void CaptureTable::stop_all() {
  for (Entry& e : captures_) finish(e);
  captures_.clear();
}

Json CaptureTable::list() {
  reap();
  Json out = Json::array();
  for (const Entry& e : captures_) {
    const bridge::CaptureCounts c = e.capture->counts();
    out.push_back(Json{{"id", e.id},
                       {"port", e.spec.port},
                       {"file", e.spec.file},
                       {"dir", config::capture_dir_name(e.spec.dir)},
                       {"filter", e.spec.filter},
                       {"snaplen", e.spec.snaplen},
                       {"max-size-mb", e.spec.max_size_mb},
                       {"max-files", e.spec.max_files},
                       {"written", c.written},
                       {"written-bytes", c.bytes_written},
                       {"filtered-out", c.filtered_out},
                       {"dropped", c.dropped},
                       {"files", c.files},
                       {"queue-bytes", c.queue_used},
                       {"error", c.error.empty() ? Json(nullptr) : Json(c.error)},
                       {"spec", config::to_keyval(e.spec)}});
  }
  return out;
}

}  // namespace uvs::daemon
