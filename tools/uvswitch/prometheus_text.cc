// SPDX-License-Identifier: MIT
// PrometheusText: the generic walk from stats JSON to metric families, and their text form.
#include "tools/uvswitch/prometheus_text.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>

namespace uvs::daemon {
namespace {

using Json = PrometheusText::Json;

// Keys whose value is a current level or a setting, not a running count. Everything else
// numeric is a counter: the stats objects are almost all counts, so a new key defaults to that.
const std::set<std::string, std::less<>> kGauges = {
    "entries",       "capacity",    "handlers",       "polled-handlers", "poll-window-ns",
    "poll-max-ns",   "poll-grow",   "poll-shrink",    "tcp-listeners",   "registered-fds",
    "pending-bytes", "queue-bytes", "files",          "snaplen",         "max-size-mb",
    "max-files",     "uptime-ms",   "connected",      "attached",        "created",
    "mtu",           "learned-macs", "pollers",        "dpdk-port-id",
};

// Keys whose bare name says too little as a metric name.
const std::map<std::string, std::string, std::less<>> kAliases = {
    {"written", "written-frames"},
    {"filtered-out", "filtered-out-frames"},
    {"dropped", "dropped-frames"},
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string singular(std::string_view key) {
  if (key.size() > 1 && key.back() == 's') key.remove_suffix(1);
  return std::string(key);
}

// How one stats key reads as a metric.
struct KeyMeaning {
  std::string base;    // metric name part, still with '-'
  std::string reason;  // for drop counters: the label value
  double scale = 1.0;
  bool scaled = false;
  std::string unit_note;
};

KeyMeaning interpret(std::string_view key) {
  KeyMeaning m;
  std::string_view k = key;
  auto alias = kAliases.find(k);
  std::string aliased;
  if (alias != kAliases.end()) {
    aliased = alias->second;
    k = aliased;
  }
  // Base units (Prometheus naming practice): seconds and bytes.
  std::string unit;
  if (ends_with(k, "-total")) k.remove_suffix(6);  // "_total" is added for every counter
  if (ends_with(k, "-ns")) {
    k.remove_suffix(3);
    unit = "-seconds";
    m.scale = 1e-9;
    m.scaled = true;
    m.unit_note = " (converted from ns to seconds)";
  } else if (ends_with(k, "-ms")) {
    k.remove_suffix(3);
    unit = "-seconds";
    m.scale = 1e-3;
    m.scaled = true;
    m.unit_note = " (converted from ms to seconds)";
  } else if (ends_with(k, "-mb")) {
    k.remove_suffix(3);
    unit = "-bytes";
    m.scale = 1e6;
    m.scaled = true;
    m.unit_note = " (converted from MB to bytes)";
  }
  std::string dir;
  if (starts_with(k, "in-")) {
    dir = "rx-";
    k.remove_prefix(3);
  } else if (starts_with(k, "out-")) {
    dir = "tx-";
    k.remove_prefix(4);
  }
  if (starts_with(k, "drop-") && k.size() > 5) {
    m.reason = PrometheusText::sanitize_name(k.substr(5));
    m.base = dir + "drops" + unit;
  } else {
    m.base = dir + std::string(k) + unit;
  }
  return m;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

std::string labels_text(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += labels[i].first + "=\"" + PrometheusText::escape_label(labels[i].second) + "\"";
  }
  return out + "}";
}

std::string scalar_text(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

}  // namespace

std::string PrometheusText::sanitize_name(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 1);
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(out.begin(), '_');
  return out;
}

std::string PrometheusText::escape_label(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusText::add_sample(const std::string& name, const std::string& type,
                                const std::string& help, const MetricLabels& labels,
                                double value) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(name, Family{type, help, {}, {}}).first;
    order_.push_back(name);
  }
  Family& f = it->second;
  if (f.type != type || !f.seen.insert(labels).second) return;
  f.samples.emplace_back(labels, value);
}

void PrometheusText::add_number(std::string_view prefix, std::string_view key, double value,
                                bool is_bool, const MetricLabels& labels, std::string_view path) {
  KeyMeaning m = interpret(key);
  const bool gauge = is_bool || kGauges.count(key) || ends_with(key, "-open");
  std::string name = "uvswitch_" + sanitize_name(prefix) + "_" + sanitize_name(m.base);
  if (!gauge) name += "_total";
  std::string help;
  MetricLabels l = labels;
  if (!m.reason.empty()) {
    l.emplace_back("reason", m.reason);
    const std::string_view dir =
        starts_with(key, "in-") ? "in-" : (starts_with(key, "out-") ? "out-" : "");
    help = "Frames dropped, one series per reason: the '" + std::string(dir) + "drop-*' fields of " +
           std::string(path);
  } else {
    help = "The '" + std::string(key) + "' field of " + std::string(path) + m.unit_note;
  }
  add_sample(name, gauge ? "gauge" : "counter", help, l, value * m.scale);
}

void PrometheusText::add_object(std::string_view prefix, const Json& obj,
                                const MetricLabels& labels, std::string_view source,
                                const std::set<std::string, std::less<>>& skip) {
  if (!obj.is_object()) return;
  const std::string path(source);
  MetricLabels info = labels;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& key = it.key();
    const Json& v = it.value();
    if (skip.count(key) || v.is_null()) continue;
    if (v.is_boolean()) {
      add_number(prefix, key, v.get<bool>() ? 1 : 0, true, labels, path);
    } else if (v.is_number()) {
      add_number(prefix, key, v.get<double>(), false, labels, path);
    } else if (v.is_string()) {
      info.emplace_back(sanitize_name(key), v.get<std::string>());
    } else if (v.is_object() && !interpret(key).reason.empty()) {
      // A drop counter split by cause ({"total": N, "cause": n ...}): each cause is one more
      // reason of the same drops family; "total" is left out, as summing the family over
      // reasons must count every dropped frame once.
      for (auto sub = v.begin(); sub != v.end(); ++sub) {
        if (sub.key() == "total" || !sub.value().is_number()) continue;
        add_number(prefix, key + "-" + sub.key(), sub.value().get<double>(), false, labels,
                   path + "." + key);
      }
    } else if (v.is_object()) {
      // "total" sums what its siblings list per item: it names the prefix's own counters.
      add_object(key == "total" ? std::string(prefix)
                                : std::string(prefix) + "_" + sanitize_name(key),
                 v, labels, path + "." + key);
    } else if (v.is_array()) {
      const std::string item = singular(key);
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_object()) continue;  // lists of scalars (VLAN ids) are settings, not metrics
        MetricLabels l = labels;
        l.emplace_back(sanitize_name(item), std::to_string(i));
        // An item's I/O thread (a vhost-user queue pair's) is where it runs, not a count: a
        // label, so its counters can be summed per thread.
        const bool threaded = v[i].contains("thread") && v[i]["thread"].is_number();
        if (threaded) l.emplace_back("thread", scalar_text(v[i]["thread"]));
        add_object(std::string(prefix) + "_" + sanitize_name(item), v[i], l,
                   path + "." + key + "[]", threaded ? std::set<std::string, std::less<>>{"thread"}
                                                     : std::set<std::string, std::less<>>{});
      }
    }
  }
  if (info.size() > labels.size()) {
    add_sample("uvswitch_" + sanitize_name(prefix) + "_info", "gauge",
               "Text fields of " + path + " as labels (value always 1)", info, 1);
  }
}

std::string PrometheusText::text() const {
  std::string out;
  for (const std::string& name : order_) {
    const Family& f = families_.at(name);
    if (f.samples.empty()) continue;
    out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, value] : f.samples) {
      out += name + labels_text(labels) + " " + format_value(value) + "\n";
    }
  }
  return out;
}

std::string prometheus_exposition(const Json& stats, const Json& loops, const Json& captures,
                                  const Json& version) {
  PrometheusText t;
  if (version.is_object()) {
    t.add_sample("uvswitch_build_info", "gauge", "The daemon's version (value always 1)",
                 {{"version", version.value("version", std::string())}}, 1);
    if (version.contains("uptime-ms") && version["uptime-ms"].is_number()) {
      t.add_sample("uvswitch_uptime_seconds", "gauge", "Seconds since the daemon started", {},
                   version["uptime-ms"].get<double>() / 1e3);
    }
  }
  if (stats.is_object()) {
    for (auto it = stats.begin(); it != stats.end(); ++it) {
      const std::string& section = it.key();
      const Json& v = it.value();
      if (section == "ports" && v.is_array()) {
        for (const Json& p : v) {
          if (!p.is_object() || !p.contains("id")) continue;
          const MetricLabels port{{"port", scalar_text(p["id"])}};
          const std::string type = p.value("type", std::string("unknown"));
          t.add_sample("uvswitch_port_up", "gauge", "1 when the port's state is up", port,
                       p.value("state", std::string()) == "up" ? 1 : 0);
          MetricLabels info = port;
          for (const char* k : {"type", "thread", "state"}) {
            if (p.contains(k) && !p[k].is_null()) info.emplace_back(k, scalar_text(p[k]));
          }
          t.add_sample("uvswitch_port_info", "gauge",
                       "A port's type, I/O thread and state as labels (value always 1)", info, 1);
          // The switch's own per-port counters, then the port type's (vhost-user queues,
          // tap, NAT ...): each type has its own names, as its fields differ.
          t.add_object("port", p.value("switch", Json::object()), port,
                       "uvswitchctl stats --json: ports[].switch");
          t.add_object(PrometheusText::sanitize_name(type), p.value("backend", Json::object()),
                       port, "uvswitchctl stats --json: ports[].backend of " + type + " ports");
        }
      } else if (section == "threads" && v.is_array()) {
        for (const Json& th : v) {
          if (!th.is_object()) continue;
          t.add_object("thread", th, {{"thread", scalar_text(th.value("thread", Json("?")))}},
                       "uvswitchctl stats --json: threads[]", {"thread"});
        }
      } else if (v.is_object()) {
        t.add_object(PrometheusText::sanitize_name(section), v, {},
                     "uvswitchctl stats --json: " + section);
      } else if (v.is_array()) {
        // A list section added later: its items are named by "id" or "name", else by index.
        const std::string item = singular(section);
        for (size_t i = 0; i < v.size(); ++i) {
          if (!v[i].is_object()) continue;
          std::string id = std::to_string(i);
          for (const char* k : {"id", "name"}) {
            if (v[i].contains(k) && !v[i][k].is_null()) {
              id = scalar_text(v[i][k]);
              break;
            }
          }
          t.add_object(PrometheusText::sanitize_name(item), v[i],
                       {{PrometheusText::sanitize_name(item), id}},
                       "uvswitchctl stats --json: " + section + "[]", {"id", "name"});
        }
      }
    }
  }
  if (loops.is_array()) {
    for (const Json& l : loops) {
      if (!l.is_object()) continue;
      t.add_object("loop", l,
                   {{"loop", scalar_text(l.value("name", Json("?")))},
                    {"role", scalar_text(l.value("role", Json("?")))}},
                   "uvswitchctl threads --json (event loops)", {"name", "role", "index"});
    }
  }
  if (captures.is_array()) {
    for (const Json& c : captures) {
      if (!c.is_object()) continue;
      t.add_object("capture", c,
                   {{"capture", scalar_text(c.value("id", Json("?")))},
                    {"port", scalar_text(c.value("port", Json("?")))}},
                   "uvswitchctl captures --json", {"id", "port", "spec"});
    }
    t.add_sample("uvswitch_captures", "gauge", "Captures running", {},
                 static_cast<double>(captures.size()));
  }
  return t.text();
}

}  // namespace uvs::daemon
