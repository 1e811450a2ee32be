// SPDX-License-Identifier: MIT
// NAT ports in the daemon: options from the config, stats, and the hostfwd control commands.
#include "tools/uvswitch/nat_commands.h"

#include <arpa/inet.h>

#include <cstring>

#include "config/port_spec_parser.h"
#include "port/offload.h"
#include "slirp-glue/nat_port.h"
#include "tools/uvswitch/daemon.h"

namespace uvs::daemon {
namespace {

in_addr v4(config::Ipv4Addr a) {
  in_addr out;
  out.s_addr = htonl(a.value);
  return out;
}

CommandReply bad(const std::string& what) {
  return CommandReply::failure("GenericError", what);
}

// hostfwd-del takes the host side only ("tcp:127.0.0.1:2222"), as QEMU's hostfwd_remove does,
// or a whole rule; the guest side of a whole rule is ignored.
config::Result<config::HostFwd> parse_rule(const std::string& rule, bool host_side_only) {
  if (host_side_only && rule.find('-') == std::string::npos) {
    return config::parse_hostfwd(rule + "-:1");
  }
  return config::parse_hostfwd(rule);
}

}  // namespace

slirpglue::NatForward nat_forward_from(const config::HostFwd& f) {
  slirpglue::NatForward n;
  n.udp = f.proto == config::FwdProto::kUdp;
  if (!f.host_addr) {
    inet_pton(AF_INET, "127.0.0.1", &n.host4);
  } else if (f.host_addr->family == config::IpFamily::kV6) {
    n.host_v6 = true;
    std::memcpy(&n.host6, f.host_addr->v6.bytes.data(), 16);
  } else {
    n.host4 = v4(f.host_addr->v4);
  }
  n.host_port = f.host_port;
  if (f.guest_addr) n.guest = v4(*f.guest_addr);
  n.guest_port = f.guest_port;
  return n;
}

namespace {

Json nat_stats_json(const slirpglue::NatPort& port);
CommandReply nat_command(slirpglue::NatPort& nat, std::string_view command, const Json& args,
                         config::PortSpec& spec);

RunningPort make_nat_port(const config::PortSpec& spec, ev::EventLoop& loop, std::string* error) {
  const auto& s = spec.backend.get<config::NatPortSpec>();
  slirpglue::NatPortOptions o;
  o.name = spec.id;
  o.net = v4(s.net.addr);
  o.mask = v4(config::Ipv4Addr{s.net.mask()});
  o.host = v4(s.host);
  o.dhcp_start = v4(s.dhcp_start);
  o.dns = v4(s.dns);
  o.ipv6 = s.ipv6;
  std::memcpy(&o.ipv6_prefix, s.ipv6_prefix.addr.bytes.data(), 16);
  o.ipv6_prefix_len = static_cast<uint8_t>(s.ipv6_prefix.prefix);
  if (s.domain) o.domain = *s.domain;
  o.restrict_guest = s.restrict_guest;
  o.host_loopback = s.host_loopback;
  o.max_connections = s.max_connections.value_or(0);
  o.dhcp = s.dhcp;
  if (s.mtu) o.mtu = *s.mtu;
  if (s.dns_server) {
    sockaddr_storage ss{};
    if (s.dns_server->ip.family == config::IpFamily::kV6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      std::memcpy(&a->sin6_addr, s.dns_server->ip.v6.bytes.data(), 16);
      a->sin6_port = htons(s.dns_server->port);
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_addr = v4(s.dns_server->ip.v4);
      a->sin_port = htons(s.dns_server->port);
    }
    o.dns_server = ss;
  }
  for (const config::HostFwd& f : s.hostfwd) o.hostfwd.push_back(nat_forward_from(f));
  auto port = std::make_unique<slirpglue::NatPort>(loop, std::move(o));
  slirpglue::NatStatus st = port->start();
  if (!st) {
    *error = st.message;
    return {};
  }
  slirpglue::NatPort* nat = port.get();
  RunningPort rp;
  rp.details = [nat] { return nat_stats_json(*nat); };
  rp.command = [nat](std::string_view command, const Json& args, config::PortSpec& own) {
    return nat_command(*nat, command, args, own);
  };
  rp.port = std::move(port);
  return rp;
}

Json nat_stats_json(const slirpglue::NatPort& port) {
  slirpglue::NatPortStats s = port.stats();
  // The offloads the NAT takes (fixed: libslirp's side needs no negotiation).
  Json offloads = Json::array();
  const uint32_t caps = port.offload_caps();
  if (caps & port::OffloadCap::kCsum) offloads.push_back("csum");
  if (caps & port::OffloadCap::kTso4) offloads.push_back("tso4");
  if (caps & port::OffloadCap::kTso6) offloads.push_back("tso6");
  if (caps & port::OffloadCap::kTsoEcn) offloads.push_back("tso-ecn");
  return Json{{"offloads", Json{{"negotiated", offloads}}},
              {"tcp-open", s.tcp_open},
              {"tcp-listeners", s.tcp_listeners},
              {"udp-open", s.udp_open},
              {"in-frames", s.in_frames},
              {"in-bytes", s.in_bytes},
              {"in-not-ours", s.in_not_ours},
              {"in-drop-conn-limit", s.in_drop_conn_limit},
              {"in-drop-bad", s.in_drop_bad},
              {"in-drop-reentry", s.in_drop_reentry},
              {"in-drop-offload", s.in_drop_offload},
              {"in-gso", s.in_gso},
              {"in-syn-mss-raised", s.in_syn_mss_raised},
              {"out-frames", s.out_frames},
              {"out-bytes", s.out_bytes},
              {"out-drop-no-sink", s.out_drop_no_sink},
              {"out-gso", s.out_gso},
              {"out-fragmented", s.out_fragmented},
              {"out-fragments", s.out_fragments},
              {"out-drop-too-big", s.out_drop_too_big},
              {"mss-evictions", s.mss_evictions},
              {"dhcp-acks", s.dhcp_acks},
              {"dhcp-leases", s.dhcp_leases},
              {"dns-relayed", s.dns_relayed},
              {"dns-answers", s.dns_answers},
              {"dns-mismatched", s.dns_mismatched},
              {"dns-truncated", s.dns_truncated},
              {"guest-errors", s.guest_errors},
              {"errors", s.errors},
              {"passes", s.passes},
              {"registered-fds", s.registered_fds}};
}

// The NAT's own commands, on its loop thread: hostfwd-add / hostfwd-del take args["rule"].
CommandReply nat_command(slirpglue::NatPort& nat, std::string_view command, const Json& args,
                         config::PortSpec& spec) {
  const std::string rule =
      args.contains("rule") && args["rule"].is_string() ? args["rule"].get<std::string>() : "";
  if (command == "hostfwd-add") {
    auto fwd = parse_rule(rule, false);
    if (!fwd) return bad("hostfwd: " + fwd.error().message);
    auto& ns = spec.backend.get<config::NatPortSpec>();
    if (fwd->guest_addr && !ns.net.contains(*fwd->guest_addr)) {
      return bad("hostfwd '" + rule + "': guest address " +
                 fwd->guest_addr->to_string() + " is outside net=" +
                 ns.net.to_string());
    }
    slirpglue::NatStatus st = nat.add_forward(nat_forward_from(*fwd));
    if (!st) return bad(st.message);
    ns.hostfwd.push_back(*fwd);
    return CommandReply::success(Json{{"rule", nat.forwards().back().to_string()}});
  }
  if (command == "hostfwd-del") {
    auto fwd = parse_rule(rule, true);
    if (!fwd) return bad("hostfwd: " + fwd.error().message);
    slirpglue::NatForward target = nat_forward_from(*fwd);
    slirpglue::NatStatus st = nat.remove_forward(target);
    if (!st) return bad(st.message);
    auto& list = spec.backend.get<config::NatPortSpec>().hostfwd;
    std::erase_if(list, [&](const config::HostFwd& h) {
      return nat_forward_from(h).same_host_side(target);
    });
    return CommandReply::success(Json::object());
  }
  if (command == "hostfwd-list") {
    Json out = Json::array();
    for (const slirpglue::NatForward& f : nat.forwards()) {
      out.push_back(Json{{"rule", f.to_string()},
                         {"proto", f.udp ? "udp" : "tcp"},
                         {"host-port", f.host_port},
                         {"guest-port", f.guest_port}});
    }
    return CommandReply::success(std::move(out));
  }
  return bad("a nat port has no command '" + std::string(command) + "'");
}

// Where the guests' DHCP, gateway and DNS are, and how to forward a host port at run time
// (through the control socket; without one, only hostfwd= keys work).
std::string nat_banner(const config::PortSpec& spec, const std::string& control_path) {
  const auto& nat = spec.backend.get<config::NatPortSpec>();
  std::string out = "  NAT " + spec.id + ": guests on its VLAN get DHCP from " +
                    nat.dhcp_start.to_string() + " (gateway " + nat.host.to_string() + ", DNS " +
                    nat.dns.to_string() + "); the host's loopback is " + nat.host.to_string() +
                    "\n";
  if (!control_path.empty()) {
    out += "    forward a host port: uvswitchctl --control " + control_path + " hostfwd-add " +
           spec.id + " tcp:127.0.0.1:2222-:22\n";
  }
  return out;
}

}  // namespace

extern const PortFactory kNatFactory{
    .type = &config::kNatPortType, .make = make_nat_port, .banner = nat_banner};

void register_nat_commands(CommandTable& table, Daemon& d) {
  // Checks the arguments, then runs the command on the NAT port's loop through its entry.
  auto on_nat = [&d](std::string_view command, const Json& args, bool need_rule) {
    if (!args.contains("id") || !args["id"].is_string()) {
      return bad("needs \"id\": the NAT port's id");
    }
    if (need_rule && (!args.contains("rule") || !args["rule"].is_string())) {
      return bad("needs \"rule\": a hostfwd rule like tcp:127.0.0.1:2222-:22");
    }
    const std::string id = args["id"].get<std::string>();
    const config::PortSpec* spec = d.ports().spec(id);
    if (!spec) return bad("no port with id '" + id + "'");
    if (spec->type != &config::kNatPortType) {
      return bad("port " + id + " is a " + std::string(spec->type_name()) +
                 " port, not a nat port");
    }
    CommandReply reply;
    std::string error;
    if (!d.ports().command(id, command, args, &reply, &error)) return bad(error);
    return reply;
  };

  table.add("hostfwd-add",
            "forward a host port to the NAT's network: {\"id\": \"nat0\", \"rule\": "
            "\"tcp:127.0.0.1:2222-:22\"}",
            [on_nat](const Json& args) { return on_nat("hostfwd-add", args, true); });
  table.add("hostfwd-del",
            "remove a forward: {\"id\": \"nat0\", \"rule\": \"tcp:127.0.0.1:2222\"}",
            [on_nat](const Json& args) { return on_nat("hostfwd-del", args, true); });
  table.add("hostfwd-list", "the forwards of a NAT port: {\"id\": \"nat0\"}",
            [on_nat](const Json& args) { return on_nat("hostfwd-list", args, false); });
}

}  // namespace uvs::daemon
