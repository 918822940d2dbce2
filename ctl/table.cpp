#include "table.hpp"

#include <algorithm>

#include "common/no_postgres.hpp"

namespace pg_ha::ctl {
namespace {

std::string cell(const std::vector<std::string>& row, size_t i) { return i < row.size() ? row[i] : ""; }

std::string border(const std::vector<size_t>& widths) {
  std::string out = "+";
  for (size_t w : widths) out += std::string(w + 2, '-') + "+";
  return out + "\n";
}

// The top border with the title written over its start: "+ title ---...".
std::string title_border(const std::vector<size_t>& widths, const std::string& title) {
  std::string line = border(widths);
  std::string label = "+ " + title + " ";
  if (label.size() + 2 > line.size()) return label + "-+\n";   // the title is wider than the table
  line.replace(0, label.size(), label);
  return line;
}

}  // namespace

std::string render_table(const Table& t, const std::string& title) {
  size_t columns = t.header.size();
  for (const auto& r : t.rows) columns = std::max(columns, r.size());
  std::vector<size_t> widths(columns, 0);
  for (size_t i = 0; i < columns; ++i) {
    widths[i] = cell(t.header, i).size();
    for (const auto& r : t.rows) widths[i] = std::max(widths[i], cell(r, i).size());
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string out = "|";
    for (size_t i = 0; i < columns; ++i) {
      std::string c = cell(r, i);
      std::string pad(widths[i] - c.size(), ' ');
      bool right = i < t.right_aligned.size() && t.right_aligned[i];
      out += " " + (right ? pad + c : c + pad) + " |";
    }
    return out + "\n";
  };
  std::string out = title.empty() ? border(widths) : title_border(widths, title);
  out += line(t.header) + border(widths);
  for (const auto& r : t.rows) out += line(r);
  return out + border(widths);
}

}  // namespace pg_ha::ctl
