// SPDX-License-Identifier: MIT
// PrometheusText: names, types, labels and grouping of the exposition built from stats JSON.
#include "tools/uvswitch/prometheus_text.h"

#include <doctest/doctest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using uvs::daemon::PrometheusText;
using uvs::daemon::prometheus_exposition;
using Json = nlohmann::ordered_json;

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l == line) return true;
  }
  return false;
}

size_t count_lines_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  size_t n = 0;
  for (std::string l; std::getline(in, l);) n += l.rfind(prefix, 0) == 0;
  return n;
}

Json two_ports() {
  return Json::parse(R"({
    "ports": [
      {"id": "vm0", "type": "vhost-user", "thread": 0, "state": "up",
       "switch": {"in-frames": 11, "in-bytes": 1100, "out-frames": 7, "drop-vlan": 2,
                  "drop-no-buffers": 3},
       "backend": {"connected": true, "connections": 1, "out-drop-not-ready": 4,
                   "total": {"in-frames": 11, "kicks": 5},
                   "queues": [{"in-frames": 6, "thread": 0}, {"in-frames": 5, "thread": 1}]}},
      {"id": "t\"1", "type": "tap", "thread": 1, "state": "down",
       "switch": {"in-frames": 0, "in-bytes": 0, "out-frames": 0, "drop-vlan": 0,
                  "drop-no-buffers": 0},
       "backend": {"ifname": "uvtap1", "in-drop-gso": 9}}
    ],
    "threads": [{"thread": 0, "bursts": 3, "drop-ring-full": 1}],
    "fdb": {"entries": 2, "capacity": 65536, "learned": 4}
  })");
}

}  // namespace

TEST_CASE("the switch's port counters read as rx/tx from the switch, drops by reason") {
  const std::string t = prometheus_exposition(two_ports(), Json(), Json(), Json());
  CHECK(has_line(t, "# TYPE uvswitch_port_rx_frames_total counter"));
  CHECK(has_line(t, "uvswitch_port_rx_frames_total{port=\"vm0\"} 11"));
  CHECK(has_line(t, "uvswitch_port_rx_bytes_total{port=\"vm0\"} 1100"));
  CHECK(has_line(t, "uvswitch_port_tx_frames_total{port=\"vm0\"} 7"));
  CHECK(has_line(t, "uvswitch_port_drops_total{port=\"vm0\",reason=\"vlan\"} 2"));
  CHECK(has_line(t, "uvswitch_port_drops_total{port=\"vm0\",reason=\"no_buffers\"} 3"));
  // A label value with a quote is escaped, not cut.
  CHECK(has_line(t, "uvswitch_port_rx_frames_total{port=\"t\\\"1\"} 0"));
  CHECK(has_line(t, "uvswitch_port_up{port=\"vm0\"} 1"));
  CHECK(has_line(t, "uvswitch_port_up{port=\"t\\\"1\"} 0"));
  CHECK(has_line(t,
                 "uvswitch_port_info{port=\"vm0\",type=\"vhost-user\",thread=\"0\",state=\"up\"} 1"));
}

TEST_CASE("each port type's own counters: nested totals, per-queue labels, text as info") {
  const std::string t = prometheus_exposition(two_ports(), Json(), Json(), Json());
  CHECK(has_line(t, "# TYPE uvswitch_vhost_user_connected gauge"));
  CHECK(has_line(t, "uvswitch_vhost_user_connected{port=\"vm0\"} 1"));
  CHECK(has_line(t, "uvswitch_vhost_user_connections_total{port=\"vm0\"} 1"));
  CHECK(has_line(t, "uvswitch_vhost_user_tx_drops_total{port=\"vm0\",reason=\"not_ready\"} 4"));
  CHECK(has_line(t, "uvswitch_vhost_user_rx_frames_total{port=\"vm0\"} 11"));
  CHECK(has_line(t, "uvswitch_vhost_user_kicks_total{port=\"vm0\"} 5"));
  CHECK(has_line(t, "uvswitch_vhost_user_queue_rx_frames_total{port=\"vm0\",queue=\"0\",thread=\"0\"} 6"));
  CHECK(has_line(t, "uvswitch_vhost_user_queue_rx_frames_total{port=\"vm0\",queue=\"1\",thread=\"1\"} 5"));
  CHECK(t.find("queue_thread") == std::string::npos);  // where a queue runs is a label only
  CHECK(has_line(t, "uvswitch_tap_rx_drops_total{port=\"t\\\"1\",reason=\"gso\"} 9"));
  CHECK(has_line(t, "uvswitch_tap_info{port=\"t\\\"1\",ifname=\"uvtap1\"} 1"));
  CHECK(has_line(t, "uvswitch_thread_bursts_total{thread=\"0\"} 3"));
  CHECK(has_line(t, "uvswitch_thread_drops_total{thread=\"0\",reason=\"ring_full\"} 1"));
  CHECK(has_line(t, "# TYPE uvswitch_fdb_entries gauge"));
  CHECK(has_line(t, "uvswitch_fdb_capacity 65536"));
  CHECK(has_line(t, "uvswitch_fdb_learned_total 4"));
}

TEST_CASE("a drop counter split by cause: one reason per cause, its total left out") {
  Json s = two_ports();
  s["ports"][0]["backend"]["total"]["in-drop-bad-hdr"] =
      Json::parse(R"({"total": 5, "gso-size": 3, "csum-range": 2})");
  s["ports"][0]["backend"]["total"]["in-drop-too-short"] = 1;
  const std::string t = prometheus_exposition(s, Json(), Json(), Json());
  CHECK(has_line(t, "uvswitch_vhost_user_rx_drops_total{port=\"vm0\",reason=\"bad_hdr_gso_size\"} 3"));
  CHECK(has_line(t,
                 "uvswitch_vhost_user_rx_drops_total{port=\"vm0\",reason=\"bad_hdr_csum_range\"} 2"));
  CHECK(has_line(t, "uvswitch_vhost_user_rx_drops_total{port=\"vm0\",reason=\"too_short\"} 1"));
  CHECK(count_lines_starting(t, "uvswitch_vhost_user_rx_drops_total{") == 3);
  CHECK(t.find("bad_hdr_total") == std::string::npos);
  CHECK(t.find("_total_total") == std::string::npos);
}

TEST_CASE("a counter added to the stats later is exported without a change here") {
  Json s = two_ports();
  s["ports"][0]["switch"]["drop-new-reason"] = 8;
  s["ports"][0]["backend"]["widgets-made"] = 12;
  s["vxlan"] = Json::parse(R"({"decap-errors": 1, "tunnels-open": 2})");
  s["bonds"] = Json::parse(R"([{"id": "bond0", "failovers": 3}])");
  const std::string t = prometheus_exposition(s, Json(), Json(), Json());
  CHECK(has_line(t, "uvswitch_port_drops_total{port=\"vm0\",reason=\"new_reason\"} 8"));
  CHECK(has_line(t, "uvswitch_vhost_user_widgets_made_total{port=\"vm0\"} 12"));
  CHECK(has_line(t, "uvswitch_vxlan_decap_errors_total 1"));
  CHECK(has_line(t, "# TYPE uvswitch_vxlan_tunnels_open gauge"));
  CHECK(has_line(t, "uvswitch_bond_failovers_total{bond=\"bond0\"} 3"));
}

TEST_CASE("loops, captures and version: base units, gauges and labels") {
  const Json loops = Json::parse(R"([
    {"name": "uvs-io0", "role": "io", "index": 0, "iterations": 100, "poll-ns-total": 2500000000,
     "poll-window-ns": 32768, "handlers": 3, "monitor": "epoll"},
    {"name": "control", "role": "control", "index": null, "iterations": 5}])");
  const Json caps = Json::parse(R"([
    {"id": 2, "port": "vm0", "file": "/tmp/a.pcap", "dir": "both", "written": 10, "dropped": 1,
     "max-size-mb": 3, "error": null, "spec": "port=vm0,file=/tmp/a.pcap"}])");
  const Json version = Json::parse(R"({"version": "1.2.3", "uptime-ms": 1500})");
  const std::string t = prometheus_exposition(Json::object(), loops, caps, version);
  CHECK(has_line(t, "uvswitch_loop_iterations_total{loop=\"uvs-io0\",role=\"io\"} 100"));
  CHECK(has_line(t, "uvswitch_loop_iterations_total{loop=\"control\",role=\"control\"} 5"));
  CHECK(has_line(t, "uvswitch_loop_poll_seconds_total{loop=\"uvs-io0\",role=\"io\"} 2.5"));
  CHECK(has_line(t, "# TYPE uvswitch_loop_poll_window_seconds gauge"));
  CHECK(has_line(t, "uvswitch_loop_handlers{loop=\"uvs-io0\",role=\"io\"} 3"));
  CHECK(has_line(t, "uvswitch_loop_info{loop=\"uvs-io0\",role=\"io\",monitor=\"epoll\"} 1"));
  CHECK(t.find("uvswitch_loop_index") == std::string::npos);
  CHECK(has_line(t, "uvswitch_capture_written_frames_total{capture=\"2\",port=\"vm0\"} 10"));
  CHECK(has_line(t, "uvswitch_capture_dropped_frames_total{capture=\"2\",port=\"vm0\"} 1"));
  CHECK(has_line(t, "uvswitch_capture_max_size_bytes{capture=\"2\",port=\"vm0\"} 3000000"));
  CHECK(has_line(t, "uvswitch_capture_info{capture=\"2\",port=\"vm0\",file=\"/tmp/a.pcap\","
                    "dir=\"both\"} 1"));
  CHECK(has_line(t, "uvswitch_captures 1"));
  CHECK(has_line(t, "uvswitch_build_info{version=\"1.2.3\"} 1"));
  CHECK(has_line(t, "uvswitch_uptime_seconds 1.5"));
}

TEST_CASE("every family has one HELP and one TYPE line, and its samples follow them together") {
  const std::string t = prometheus_exposition(two_ports(), Json(), Json::array(), Json());
  std::istringstream in(t);
  std::vector<std::string> families;
  std::string current;
  std::set<std::string> sample_names;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("# HELP ", 0) == 0) {
      current = l.substr(7, l.find(' ', 7) - 7);
      for (const std::string& f : families) CHECK_MESSAGE(f != current, "family twice: " << f);
      families.push_back(current);
    } else if (l.rfind("# TYPE ", 0) == 0) {
      CHECK(l.rfind("# TYPE " + current + " ", 0) == 0);
    } else {
      // A sample: its name is the current family's.
      const std::string name = l.substr(0, l.find_first_of("{ "));
      sample_names.insert(name);
      CHECK_MESSAGE(name == current, "sample " << l << " outside its family " << current);
    }
  }
  CHECK(!families.empty());
  CHECK(sample_names.size() == families.size());
  CHECK(count_lines_starting(t, "# TYPE ") == families.size());
}

TEST_CASE("duplicates and type clashes are dropped; bad input gives no samples") {
  PrometheusText p;
  p.add_sample("uvswitch_x_total", "counter", "x", {{"a", "1"}}, 1);
  p.add_sample("uvswitch_x_total", "counter", "x", {{"a", "1"}}, 2);  // same series
  p.add_sample("uvswitch_x_total", "gauge", "x", {{"a", "2"}}, 3);    // other type
  const std::string t = p.text();
  CHECK(has_line(t, "uvswitch_x_total{a=\"1\"} 1"));
  CHECK(count_lines_starting(t, "uvswitch_x_total") == 1);
  CHECK(prometheus_exposition(Json(42), Json("x"), Json::object(), Json::array()).empty());
  CHECK(prometheus_exposition(Json::parse(R"({"ports": [1, {"noid": 1}], "threads": [2]})"),
                              Json::array({3}), Json::array({4}), Json())
            .find("uvswitch_port_rx") == std::string::npos);
}

TEST_CASE("names and label values are made safe") {
  CHECK(PrometheusText::sanitize_name("drop-no.buffers") == "drop_no_buffers");
  CHECK(PrometheusText::sanitize_name("0x") == "_0x");
  CHECK(PrometheusText::sanitize_name("") == "_");
  CHECK(PrometheusText::escape_label("a\\b\"c\nd") == "a\\\\b\\\"c\\nd");
}
