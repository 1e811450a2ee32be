// SPDX-License-Identifier: MIT
// TextTable: left-aligned columns for uvswitchctl's human-readable output.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace uvs::ctl {

/// Rows of cells printed with each column padded to its widest cell; the first row is the
/// header. Rows shorter than the header are padded with empty cells.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  /// Appends a row of cells.
  void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  /// Writes the table, two spaces between columns, no trailing spaces.
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace uvs::ctl
