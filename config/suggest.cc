// SPDX-License-Identifier: MIT
// Edit distance and nearest-word lookup for did-you-mean hints.
#include "config/suggest.h"

#include <algorithm>
#include <vector>

namespace uvs::config {

size_t edit_distance(std::string_view a, std::string_view b) {
  // One row of the classic dynamic-programming table; keys are short, so this is cheap.
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string nearest_word(std::string_view word, std::span<const std::string_view> candidates) {
  size_t best = SIZE_MAX;
  std::string_view best_word;
  for (std::string_view c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best) {
      best = d;
      best_word = c;
    }
  }
  // Two edits catch the usual slips (a dropped, doubled or swapped letter); the length bound keeps
  // "id" from suggesting "ip" for an unrelated two-letter word.
  if (!best_word.empty() && best <= 2 && best * 2 < std::max(word.size(), best_word.size())) {
    return std::string(best_word);
  }
  // A shortened name ("vhost" for "vhost-user") is far in edits but obvious as a prefix.
  if (word.size() >= 3) {
    for (std::string_view c : candidates) {
      if (c.size() > word.size() && c.substr(0, word.size()) == word) return std::string(c);
    }
  }
  return {};
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  std::string n = nearest_word(word, candidates);
  return n.empty() ? std::string() : " (did you mean '" + n + "'?)";
}

}  // namespace uvs::config
