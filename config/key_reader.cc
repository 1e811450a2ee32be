// SPDX-License-Identifier: MIT
// KeyReader: allowed-key checks with did-you-mean hints, and key-naming error annotation.
#include "config/key_reader.h"

#include <vector>

#include "config/suggest.h"

namespace uvs::config {

Result<void> KeyReader::check_keys(std::span<const KeyRule> allowed, std::string_view what) const {
  std::vector<std::string_view> names;
  names.reserve(allowed.size());
  for (const KeyRule& k : allowed) names.push_back(k.name);
  for (size_t i = 0; i < kv_.items.size(); ++i) {
    const KeyvalItem& item = kv_.items[i];
    const KeyRule* rule = nullptr;
    for (const KeyRule& k : allowed) {
      if (k.name == item.key) rule = &k;
    }
    if (!rule) {
      std::string hint = did_you_mean(item.key, names);
      if (hint.empty()) {
        hint = " (valid keys for a " + std::string(what) + ":";
        for (size_t j = 0; j < names.size(); ++j) {
          hint += (j ? ", " : " ") + std::string(names[j]);
        }
        hint += ")";
      }
      return Error::make(ConfigError::kUnknownKey, "unknown key '" + item.key + "'" + hint,
                         item.key);
    }
    if (!rule->repeatable) {
      for (size_t j = 0; j < i; ++j) {
        if (kv_.items[j].key == item.key) {
          return Error::make(ConfigError::kDuplicateKey,
                             "key '" + item.key + "' given twice ('" + kv_.items[j].value +
                                 "' and '" + item.value + "')",
                             item.key);
        }
      }
    }
  }
  return {};
}

Result<std::string> KeyReader::required(std::string_view key) const {
  const KeyvalItem* it = kv_.find(key);
  if (!it) return missing(key);
  return it->value;
}

Error KeyReader::annotate(std::string_view key, const Error& e) {
  return Error{e.code, std::string(key) + ": " + e.message, std::string(key)};
}

Error KeyReader::missing(std::string_view key) {
  return Error::make(ConfigError::kMissingKey, "missing required key '" + std::string(key) + "'",
                     std::string(key));
}

}  // namespace uvs::config
