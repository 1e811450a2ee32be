// SPDX-License-Identifier: MIT
// Metrics export: gathers the stats replies into Prometheus text; writes the textfile atomically.
#include "tools/uvswitch/metrics_export.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tools/uvswitch/log.h"
#include "tools/uvswitch/prometheus_text.h"

namespace uvs::daemon {
namespace {

Json returned(const CommandTable& table, const char* command) {
  Json reply = table.dispatch(Json{{"execute", command}});
  return reply.contains("return") ? reply["return"] : Json();
}

}  // namespace

std::string metrics_text(const CommandTable& table) {
  return prometheus_exposition(returned(table, "stats"), returned(table, "threads"),
                               returned(table, "captures"), returned(table, "version"));
}

void register_metrics_command(CommandTable& table) {
  table.add("metrics",
            "every counter in the Prometheus text exposition format: {\"text\": \"...\"}",
            [&table](const Json&) {
              return CommandReply::success(Json{{"text", metrics_text(table)}});
            });
}

MetricsFile::MetricsFile(ev::EventLoop& loop, const CommandTable& table, std::string path,
                         unsigned interval_s)
    : table_(table),
      path_(std::move(path)),
      // node_exporter reads only *.prom files: this name is never picked up half-written.
      tmp_path_(path_ + ".tmp." + std::to_string(::getpid())),
      interval_ns_(int64_t(interval_s) * 1'000'000'000),
      timer_(loop, ev::Callback::bind<&MetricsFile::on_timer>(this)) {}

MetricsFile::~MetricsFile() {
  timer_.cancel();
  ::unlink(tmp_path_.c_str());
  ::unlink(path_.c_str());
}

void MetricsFile::start() {
  on_timer();
}

void MetricsFile::on_timer() {
  std::string error;
  if (write_once(&error)) {
    if (failing_) log(LogLevel::kInfo, "metrics file " + path_ + " written again");
    failing_ = false;
  } else if (!failing_) {
    log(LogLevel::kWarn, "metrics file " + path_ + ": " + error + " (retrying every interval)");
    failing_ = true;
  }
  timer_.arm_in(interval_ns_);
}

bool MetricsFile::write_once(std::string* error) {
  const std::string text = metrics_text(table_);
  int fd = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = tmp_path_ + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = tmp_path_ + ": write: " + std::strerror(errno);
      ::close(fd);
      ::unlink(tmp_path_.c_str());
      return false;
    }
    done += size_t(n);
  }
  ::close(fd);
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    *error = "rename to " + path_ + ": " + std::strerror(errno);
    ::unlink(tmp_path_.c_str());
    return false;
  }
  return true;
}

}  // namespace uvs::daemon
