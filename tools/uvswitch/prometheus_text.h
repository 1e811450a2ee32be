// SPDX-License-Identifier: MIT
// PrometheusText: turns the daemon's stats JSON into the Prometheus text exposition format.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace uvs::daemon {

/// Label name/value pairs of one sample, in the order they print.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

/// Collects samples into metric families and prints them in the text exposition format
/// (prometheus.io "Exposition formats", text format 0.0.4): per family one `# HELP` and one
/// `# TYPE` line, then its samples, every family once.
///
/// The stats JSON is read generically, so a counter added to any stats object later appears
/// with no change here:
///   - the name is `uvswitch_<prefix>_<key>`, the key in snake_case, with `in-`/`out-` read as
///     `rx_`/`tx_` (seen from the switch: a port's "in" frames are those the switch received);
///   - `[rx-|tx-]drop-REASON` keys become one family `..._[rx_|tx_]drops_total` with a
///     `reason` label;
///   - `-ns` and `-ms` keys are converted to seconds, `-mb` to bytes (base units);
///   - numbers are counters (`_total` appended) unless their key is a known gauge (sizes,
///     settings, open connections) or ends in `-open`; booleans are gauges (0/1);
///   - strings become labels of one `<prefix>_info` gauge of value 1;
///   - nested objects extend the prefix (`total` does not), arrays of objects add a label
///     (their element's index) and take the singular of the key as prefix.
/// Not thread-safe; plain data.
class PrometheusText {
 public:
  using Json = nlohmann::ordered_json;

  /// Adds every field of `obj` under `prefix` ("port", "nat", "loop" ...) with `labels` on each
  /// sample; keys in `skip` are left out (identity fields already given as labels). `source`
  /// names where `obj` comes from, for the HELP text ("uvswitchctl stats --json: ports[].switch").
  /// Anything but an object is ignored.
  void add_object(std::string_view prefix, const Json& obj, const MetricLabels& labels,
                  std::string_view source, const std::set<std::string, std::less<>>& skip = {});
  /// Adds one sample. A sample whose family exists with another type, or whose labels repeat an
  /// existing sample of its family, is dropped (a scrape must not see duplicate series).
  void add_sample(const std::string& name, const std::string& type, const std::string& help,
                  const MetricLabels& labels, double value);
  /// The exposition text; ends with a newline (or is empty).
  std::string text() const;

  /// `text` as a metric or label name: [a-zA-Z0-9_] kept, everything else '_', and a leading
  /// digit prefixed with '_'.
  static std::string sanitize_name(std::string_view text);
  /// `text` escaped for a label value (backslash, double quote, newline).
  static std::string escape_label(std::string_view text);

 private:
  struct Family {
    std::string type;
    std::string help;
    std::vector<std::pair<MetricLabels, double>> samples;
    std::set<MetricLabels> seen;
  };
  void add_number(std::string_view prefix, std::string_view key, double value, bool is_bool,
                  const MetricLabels& labels, std::string_view path);

  std::vector<std::string> order_;  // family names, first-seen order
  std::map<std::string, Family, std::less<>> families_;
};

/// The full exposition of a running daemon: `stats` (ports, threads, fdb and any other
/// section), `threads` (the event loops), `captures` and `version` as the control commands
/// return them. Pure.
std::string prometheus_exposition(const nlohmann::ordered_json& stats,
                                  const nlohmann::ordered_json& loops,
                                  const nlohmann::ordered_json& captures,
                                  const nlohmann::ordered_json& version);

}  // namespace uvs::daemon
