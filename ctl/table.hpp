// Plain-text tables for pg_hactl, drawn like patronictl's: a border line, a header, a border, the
// rows, a border. Pure: strings in, a string out.
#pragma once

#include <string>
#include <vector>

namespace pg_ha::ctl {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;   // a short row is padded with empty cells
  std::vector<bool> right_aligned;              // per column; missing = left
};

// `title`, when given, is written into the top border ("+ Cluster: demo ---+---+").
std::string render_table(const Table& table, const std::string& title = "");

}  // namespace pg_ha::ctl
