// SPDX-License-Identifier: MIT
// Did-you-mean: the nearest valid word to a misspelt key, for error messages.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace uvs::config {

/// Levenshtein edit distance between `a` and `b`. Pure.
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` if it is close enough to be a plausible typo (distance at most
/// 2, and less than half the word's length), else the first candidate that `word` (3+ letters)
/// is a prefix of; otherwise an empty string. Ties go to the first.
std::string nearest_word(std::string_view word, std::span<const std::string_view> candidates);

/// " (did you mean 'x'?)" for the nearest candidate, or "" when none is close. Ready to append.
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace uvs::config
