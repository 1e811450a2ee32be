// SPDX-License-Identifier: MIT
// Keyval: QEMU-style "type,key=value,..." specs split into items, with ",," escaping a literal
// comma.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "config/result.h"

namespace uvs::config {

/// One key=value item. `line` is the config-file line it came from (0 for command-line specs).
struct KeyvalItem {
  std::string key;
  std::string value;
  int line = 0;
};

/// A parsed spec: the leading type word (empty for specs without one, like --capture) and the
/// items in the order given. Repeats are kept; whether a key may repeat is the caller's rule.
struct Keyval {
  std::string type;
  std::vector<KeyvalItem> items;
  int line = 0;  ///< where the spec starts in a config file (0 for flags)

  /// The first item with `key`, or nullptr.
  const KeyvalItem* find(std::string_view key) const;
  /// How many items have `key`.
  size_t count(std::string_view key) const;
  /// The value of the first `key` item, or `fallback` when absent.
  std::string_view get(std::string_view key, std::string_view fallback = {}) const;
  /// The line of the first `key` item, or `line` when absent or unknown.
  int line_of(std::string_view key) const;
};

/// Whether the first item of a spec is a bare type word.
enum class KeyvalType {
  kLeading,  ///< "vhost-user,id=vm0,...": first bare word (or an explicit type=...) is the type
  kNone,     ///< "port=vm0,file=x.pcap": every item is key=value
};

/// Splits `text` into a Keyval, QEMU keyval style:
///   - items are separated by ',', and ",," stands for one literal ',' inside a value
///     (so "filter=a,,b" gives filter="a,b"; a list value can use ':' and avoid escaping);
///   - with KeyvalType::kLeading the first item may be a bare word, the type; "type=X" is the
///     same thing spelled as a key;
///   - keys are lower-case letters, digits and '-'.
/// Returns kSyntax for an empty spec or item, a missing type, a bare word after the type
/// ("'server' has no value (write server=on)"), a bad key, or an empty value. Pure function.
Result<Keyval> parse_keyval(std::string_view text, KeyvalType type_rule);

/// Splits `text` on ",": the inverse of what parse_keyval does to items; ",," is an escaped
/// comma. Exposed for tests and for callers that need the raw items.
std::vector<std::string> split_keyval_items(std::string_view text);

/// Returns `value` with every ',' doubled, so it survives being put back into a keyval spec.
std::string escape_keyval_value(std::string_view value);

}  // namespace uvs::config
