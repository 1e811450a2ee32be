// SPDX-License-Identifier: MIT
// KeyReader: checks a Keyval against the keys a spec allows and reads typed values, naming the key.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "config/keyval.h"
#include "config/result.h"
#include "config/value_parser.h"

namespace uvs::config {

/// One key a spec accepts, and its entry in `uvswitch --help`.
struct KeyRule {
  std::string_view name;
  bool repeatable = false;  ///< may be given more than once (hostfwd)
  std::string_view value;   ///< the value's placeholder in --help ("N", "on|off", "IP:PORT")
  std::string_view help;    ///< what the key sets: range, default; one sentence or two
};

/// Reads one spec's items. Every error it returns names the key and keeps the value's own
/// message: "queues: 'abc' is not a number". The Error's `key` field is set, so a config-file
/// caller can point at that key's line. Holds a reference: the Keyval must outlive it.
class KeyReader {
 public:
  /// Reads `kv`, which must outlive the reader.
  explicit KeyReader(const Keyval& kv) : kv_(kv) {}

  /// Fails on the first key not in `allowed` (kUnknownKey, with a did-you-mean hint or the list
  /// of valid keys for `what`, e.g. "tap port") or a non-repeatable key given twice
  /// (kDuplicateKey).
  Result<void> check_keys(std::span<const KeyRule> allowed, std::string_view what) const;

  /// Whether `key` was given.
  bool has(std::string_view key) const { return kv_.find(key) != nullptr; }

  /// The value of `key`; kMissingKey ("missing required key 'path'") when absent.
  Result<std::string> required(std::string_view key) const;

  /// If `key` was given, parses it with `parse` (a function of std::string_view returning a
  /// Result) and assigns the value to `*out` (a T or std::optional<T>); otherwise leaves `*out`.
  template <typename T, typename F>
  Result<void> read(std::string_view key, T* out, F&& parse) const {
    const KeyvalItem* it = kv_.find(key);
    if (!it) return {};
    auto r = parse(std::string_view(it->value));
    if (!r) return annotate(key, r.error());
    *out = std::move(*r);
    return {};
  }

  /// Like read(), but the key must be present (kMissingKey otherwise).
  template <typename T, typename F>
  Result<void> read_required(std::string_view key, T* out, F&& parse) const {
    if (!has(key)) return missing(key);
    return read(key, out, std::forward<F>(parse));
  }

  /// Returns `e` with its message prefixed by "`key`: " and its key set to `key`.
  static Error annotate(std::string_view key, const Error& e);
  /// kMissingKey error for `key`.
  static Error missing(std::string_view key);

  /// The items being read (for repeatable keys, which callers walk themselves).
  const Keyval& keyval() const { return kv_; }

 private:
  const Keyval& kv_;
};

/// A parse function for read(): an unsigned number in [min, max], converted to T.
template <typename T = unsigned>
auto uint_in(uint64_t min, uint64_t max) {
  return [min, max](std::string_view v) -> Result<T> {
    auto r = parse_uint(v, min, max);
    if (!r) return r.error();
    return static_cast<T>(*r);
  };
}

/// A parse function for read(): the text itself (keyval already refuses empty values).
inline Result<std::string> text_value(std::string_view v) {
  return std::string(v);
}

}  // namespace uvs::config
