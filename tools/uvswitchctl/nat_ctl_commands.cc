// SPDX-License-Identifier: MIT
// uvswitchctl's hostfwd subcommands and the NAT counters table.
#include "tools/uvswitchctl/nat_ctl_commands.h"

#include <memory>

#include "tools/uvswitchctl/text_table.h"

namespace uvs::ctl {
namespace {

std::string field(const Json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return "-";
  const Json& v = obj[key];
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// hostfwd-add / hostfwd-del: ID and RULE positionals → {"id", "rule"}.
CtlCommand id_rule_command(std::string name, std::string help, std::string rule_help,
                           std::function<void(const Json&, std::ostream&)> render) {
  CtlCommand c{name, std::move(help), name, nullptr, std::move(render)};
  c.setup = [name, rule_help](CLI::App& sub) -> std::function<Request()> {
    auto id = std::make_shared<std::string>();
    auto rule = std::make_shared<std::string>();
    sub.add_option("id", *id, "NAT port id (e.g. nat0)")->required();
    sub.add_option("rule", *rule, rule_help)->required();
    return [name, id, rule] { return Request{name, Json{{"id", *id}, {"rule", *rule}}}; };
  };
  return c;
}

}  // namespace

void add_nat_commands(std::vector<CtlCommand>& cmds) {
  cmds.push_back(id_rule_command(
      "hostfwd-add", "forward a host port into a NAT: hostfwd-add nat0 tcp:127.0.0.1:2222-:22",
      "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (no HOSTADDR: 127.0.0.1)",
      [](const Json& r, std::ostream& out) { out << "forwarding " << field(r, "rule") << "\n"; }));
  cmds.push_back(id_rule_command(
      "hostfwd-del", "remove a forward: hostfwd-del nat0 tcp:127.0.0.1:2222",
      "[tcp|udp]:[HOSTADDR]:HOSTPORT (as added)",
      [](const Json&, std::ostream& out) { out << "removed\n"; }));
  CtlCommand list{"hostfwd-list", "list a NAT port's forwards: hostfwd-list nat0", "hostfwd-list",
                  nullptr, [](const Json& r, std::ostream& out) {
                    if (r.empty()) {
                      out << "no forwards\n";
                      return;
                    }
                    for (const Json& f : r) out << field(f, "rule") << "\n";
                  }};
  list.setup = [](CLI::App& sub) -> std::function<Request()> {
    auto id = std::make_shared<std::string>();
    sub.add_option("id", *id, "NAT port id (e.g. nat0)")->required();
    return [id] { return Request{"hostfwd-list", Json{{"id", *id}}}; };
  };
  cmds.push_back(std::move(list));
}

void render_nat_stats(const Json& ports, std::ostream& out) {
  TextTable t({"NAT", "TCP-OPEN", "UDP-OPEN", "LISTEN", "IN-BYTES", "OUT-BYTES", "NOT-OURS",
               "DHCP-LEASES", "DNS-RELAYED", "GUEST-ERR", "ERRORS"});
  bool any = false;
  for (const Json& p : ports) {
    if (field(p, "type") != "nat" || !p.contains("backend")) continue;
    const Json& b = p["backend"];
    any = true;
    t.add_row({field(p, "id"), field(b, "tcp-open"), field(b, "udp-open"),
               field(b, "tcp-listeners"), field(b, "in-bytes"), field(b, "out-bytes"),
               field(b, "in-not-ours"), field(b, "dhcp-leases"), field(b, "dns-relayed"),
               field(b, "guest-errors"), field(b, "errors")});
  }
  if (!any) return;
  out << "\n";
  t.print(out);
}

}  // namespace uvs::ctl
