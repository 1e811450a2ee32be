// SPDX-License-Identifier: MIT
// Keyval parsing: item splitting, ",," unescaping, type extraction and key syntax checks.
#include "config/keyval.h"

namespace uvs::config {
namespace {

bool valid_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

const KeyvalItem* Keyval::find(std::string_view key) const {
  for (const auto& it : items) {
    if (it.key == key) return &it;
  }
  return nullptr;
}

size_t Keyval::count(std::string_view key) const {
  size_t n = 0;
  for (const auto& it : items) n += it.key == key ? 1 : 0;
  return n;
}

std::string_view Keyval::get(std::string_view key, std::string_view fallback) const {
  const KeyvalItem* it = find(key);
  return it ? std::string_view(it->value) : fallback;
}

int Keyval::line_of(std::string_view key) const {
  const KeyvalItem* it = find(key);
  return it && it->line > 0 ? it->line : line;
}

std::vector<std::string> split_keyval_items(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != ',') {
      cur.push_back(c);
      continue;
    }
    // QEMU's rule: a doubled comma is a literal comma, taken greedily in pairs, so ",,," is a
    // literal comma followed by a separator.
    if (i + 1 < text.size() && text[i + 1] == ',') {
      cur.push_back(',');
      ++i;
      continue;
    }
    out.push_back(std::move(cur));
    cur.clear();
  }
  out.push_back(std::move(cur));
  return out;
}

std::string escape_keyval_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    out.push_back(c);
    if (c == ',') out.push_back(',');
  }
  return out;
}

Result<Keyval> parse_keyval(std::string_view text, KeyvalType type_rule) {
  if (text.empty()) return Error::make(ConfigError::kSyntax, "empty spec");
  Keyval kv;
  std::vector<std::string> raw = split_keyval_items(text);
  for (size_t i = 0; i < raw.size(); ++i) {
    const std::string& item = raw[i];
    if (item.empty()) {
      return Error::make(ConfigError::kSyntax,
                         "empty item " + std::to_string(i + 1) + " (stray ',' ?)");
    }
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      if (i == 0 && type_rule == KeyvalType::kLeading) {
        kv.type = item;
        continue;
      }
      if (!valid_key(item)) {
        return Error::make(ConfigError::kSyntax, "'" + item + "' is not KEY=VALUE");
      }
      // QEMU once took a bare "foo" as foo=on; it is deprecated there and refused here.
      return Error::make(
          ConfigError::kSyntax,
          "'" + item + "' has no value (write " + item + "=on or " + item + "=VALUE)", item);
    }
    std::string key = item.substr(0, eq);
    std::string value = item.substr(eq + 1);
    if (!valid_key(key)) {
      return Error::make(ConfigError::kSyntax,
                         key.empty() ? "item '" + item + "' has no key"
                                     : "bad key '" + key + "' (keys are lower-case words)",
                         key);
    }
    if (value.empty()) {
      return Error::make(ConfigError::kSyntax, "key '" + key + "' has an empty value", key);
    }
    if (key == "type" && type_rule == KeyvalType::kLeading) {
      if (!kv.type.empty()) {
        return Error::make(ConfigError::kDuplicateKey,
                           "type given twice ('" + kv.type + "' and '" + value + "')", key);
      }
      kv.type = value;
      continue;
    }
    kv.items.push_back(KeyvalItem{std::move(key), std::move(value), 0});
  }
  if (type_rule == KeyvalType::kLeading && kv.type.empty()) {
    return Error::make(ConfigError::kSyntax,
                       "missing type: a spec starts with its type, e.g. 'vhost-user,id=vm0,...'",
                       "type");
  }
  return kv;
}

}  // namespace uvs::config
