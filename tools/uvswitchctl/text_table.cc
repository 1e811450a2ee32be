// SPDX-License-Identifier: MIT
// TextTable column sizing and printing.
#include "tools/uvswitchctl/text_table.h"

#include <algorithm>

namespace uvs::ctl {

void TextTable::print(std::ostream& out) const {
  size_t cols = 0;
  for (const auto& r : rows_) cols = std::max(cols, r.size());
  std::vector<size_t> width(cols, 0);
  for (const auto& r : rows_) {
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows_) {
    std::string line;
    for (size_t i = 0; i < cols; ++i) {
      const std::string cell = i < r.size() ? r[i] : std::string();
      line += cell;
      if (i + 1 < cols) line += std::string(width[i] - cell.size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
}

}  // namespace uvs::ctl
