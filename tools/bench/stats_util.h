// SPDX-License-Identifier: MIT
// Small statistics helpers the benchmarks share: percentiles and medians over samples.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace uvs::bench {

/// The p-th percentile (0..100) of `v` by nearest rank; sorts `v`. 0 for an empty vector.
inline int64_t percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = size_t(p / 100.0 * double(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace uvs::bench
