// SPDX-License-Identifier: MIT
// TOML config file reading: maps tables onto the same keyval/option parsers the flags use.
#include "config/config_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "config/keyval.h"
#include "config/port_spec_parser.h"
#include "config/port_types.h"
#include "config/suggest.h"

namespace uvs::config {
namespace {

constexpr std::string_view kSectionNames[] = {"port", "capture"};

int line_of(const toml::node& n) {
  return static_cast<int>(n.source().begin.line);
}

std::string at(const std::string& name, int line) {
  return name + ":" + std::to_string(line);
}

// Keys that take a list: an array becomes one ':'-joined value, the keyval list syntax.
bool is_list_key(std::string_view key) {
  return key == "trunk" || key == "threads";
}
// Keys that may repeat: an array becomes one item per element.
bool is_repeat_key(std::string_view key) {
  return key == "hostfwd" || key == "remote";
}

// A scalar TOML value as keyval text: strings as they are, integers in decimal, booleans as
// on/off. Anything else is refused with a message naming the key.
Result<std::string> scalar_text(const toml::node& n, std::string_view key) {
  if (auto s = n.as_string()) return s->get();
  if (auto i = n.as_integer()) return std::to_string(i->get());
  if (auto b = n.as_boolean()) return std::string(b->get() ? "on" : "off");
  std::string what = n.is_floating_point() ? "a floating-point number"
                     : n.is_array()        ? "an array"
                     : n.is_table()        ? "a table"
                                           : "a date/time";
  return Error::make(ConfigError::kBadValue,
                     std::string(key) + ": expected a string, integer or boolean, not " + what,
                     std::string(key));
}

// Converts one [[port]]/[[capture]] table into keyval items, keeping each key's line.
Result<Keyval> table_to_keyval(const toml::table& t, bool typed) {
  Keyval kv;
  kv.line = line_of(t);
  for (auto&& [k, v] : t) {
    std::string key(k.str());
    int line = static_cast<int>(k.source().begin.line);
    if (line == 0) line = line_of(v);
    auto fail = [&](const Error& e) {
      Error out = e;
      out.key = key;
      return out;
    };
    if (auto arr = v.as_array(); arr && (is_list_key(key) || is_repeat_key(key))) {
      std::string joined;
      for (const toml::node& el : *arr) {
        auto text = scalar_text(el, key);
        if (!text) return fail(text.error());
        if (is_repeat_key(key)) {
          kv.items.push_back(KeyvalItem{key, *text, line_of(el) ? line_of(el) : line});
        } else {
          joined += (joined.empty() ? "" : ":") + *text;
        }
      }
      if (is_list_key(key)) {
        if (joined.empty()) {
          return Error::make(ConfigError::kBadValue, key + ": empty list", key);
        }
        kv.items.push_back(KeyvalItem{key, joined, line});
      } else if (arr->empty()) {
        return Error::make(ConfigError::kBadValue, key + ": empty list", key);
      }
      continue;
    }
    auto text = scalar_text(v, key);
    if (!text) return fail(text.error());
    if (text->empty()) {
      return Error::make(ConfigError::kSyntax, "key '" + key + "' has an empty value", key);
    }
    if (typed && key == "type") {
      kv.type = *text;
      continue;
    }
    kv.items.push_back(KeyvalItem{key, *text, line});
  }
  if (typed && kv.type.empty()) {
    return Error::make(ConfigError::kMissingKey,
                       "missing required key 'type' (" + port_type_names(" or ") + ")",
                       "type");
  }
  return kv;
}

// Adds the [[port]] / [[capture]] entries of `node` to `layer`.
Result<void> read_section(std::string_view section, const toml::node& node, int key_line,
                          const std::string& name, ConfigLayer* layer) {
  const bool is_port = section == "port";
  const toml::array* arr = node.as_array();
  if (!arr) {
    return Error::make(ConfigError::kSyntax,
                       at(name, key_line) + ": '" + std::string(section) +
                           "' must be an array of tables: write [[" + std::string(section) +
                           "]] (double brackets), one per " + std::string(section),
                       std::string(section));
  }
  for (const toml::node& el : *arr) {
    int line = line_of(el) ? line_of(el) : key_line;
    Keyval kv;
    std::string text;
    if (auto s = el.as_string()) {
      text = s->get();
      auto parsed = parse_keyval(text, is_port ? KeyvalType::kLeading : KeyvalType::kNone);
      if (!parsed) {
        return parsed.error().with_context(at(name, line) + ": " + std::string(section) + " '" +
                                           text + "'");
      }
      kv = std::move(*parsed);
      kv.line = line;
    } else if (auto t = el.as_table()) {
      auto parsed = table_to_keyval(*t, is_port);
      if (!parsed) {
        return parsed.error().with_context(at(name, line) + ": " + std::string(section));
      }
      kv = std::move(*parsed);
      if (kv.line == 0) kv.line = line;
    } else {
      return Error::make(ConfigError::kSyntax, at(name, line) + ": each " + std::string(section) +
                                                   " entry must be a table or a keyval string");
    }
    if (is_port) {
      std::string label = "port " + port_label(kv, text.empty() ? kv.type : text);
      auto spec = parse_port_spec(kv);
      if (!spec) {
        return spec.error().with_context(at(name, kv.line_of(spec.error().key)) + ": " + label);
      }
      UVS_CFG_RETURN_IF_ERROR(layer->add_port(std::move(*spec), at(name, kv.line) + ": " + label));
    } else {
      std::string label = "capture of '" + std::string(kv.get("port", "?")) + "'";
      auto spec = parse_capture_spec(kv);
      if (!spec) {
        return spec.error().with_context(at(name, kv.line_of(spec.error().key)) + ": " + label);
      }
      UVS_CFG_RETURN_IF_ERROR(
          layer->add_capture(std::move(*spec), at(name, kv.line) + ": " + label));
    }
  }
  return {};
}

}  // namespace

Result<ConfigLayer> parse_config_text(std::string_view text, const std::string& name) {
  toml::table doc;
  try {
    doc = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    return Error::make(ConfigError::kSyntax,
                       at(name, static_cast<int>(e.source().begin.line)) +
                           ": TOML syntax error: " + std::string(e.description()));
  }
  ConfigLayer layer;
  for (auto&& [k, v] : doc) {
    std::string key(k.str());
    int line = static_cast<int>(k.source().begin.line);
    if (line == 0) line = line_of(v);
    if (key == "port" || key == "capture") {
      UVS_CFG_RETURN_IF_ERROR(read_section(key, v, line, name, &layer));
      continue;
    }
    bool known = false;
    for (std::string_view o : ConfigLayer::option_names()) known = known || o == key;
    if (!known) {
      std::vector<std::string_view> all(ConfigLayer::option_names().begin(),
                                        ConfigLayer::option_names().end());
      all.insert(all.end(), std::begin(kSectionNames), std::end(kSectionNames));
      return Error::make(ConfigError::kUnknownKey,
                         at(name, line) + ": unknown key '" + key + "'" + did_you_mean(key, all),
                         key);
    }
    auto value = scalar_text(v, key);
    if (!value) return value.error().with_context(at(name, line));
    UVS_CFG_RETURN_IF_ERROR(layer.set_option(key, *value, at(name, line) + ": " + key));
  }
  return layer;
}

Result<ConfigLayer> load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error::make(ConfigError::kFile,
                       "--config " + path + ": cannot read: " + std::strerror(errno));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    return Error::make(ConfigError::kFile,
                       "--config " + path + ": read error: " + std::strerror(errno));
  }
  return parse_config_text(buf.str(), path);
}

}  // namespace uvs::config
