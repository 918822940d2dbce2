#include "metrics.hpp"

#include <algorithm>

#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

// Label values escape backslash, double quote and newline; help text backslash and newline.
std::string escaped(const std::string& s, bool quote) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quote) out += "\\\"";
    else out += c;
  }
  return out;
}

std::string label_text(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i)
    out += (i ? "," : "") + labels[i].first + "=\"" + escaped(labels[i].second, true) + "\"";
  return out + "}";
}

}  // namespace

void MetricsText::add(const std::string& name, const std::string& type, const std::string& help,
                      const MetricLabels& labels, const std::string& value) {
  auto it = std::find_if(families_.begin(), families_.end(), [&](const Family& f) { return f.name == name; });
  if (it == families_.end()) it = families_.insert(families_.end(), Family{name, type, help, {}});
  it->samples.emplace_back(labels, value);
}

std::string MetricsText::render() const {
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP " + f.name + " " + escaped(f.help, false) + "\n# TYPE " + f.name + " " + f.type + "\n";
    for (const auto& [labels, value] : f.samples) out += f.name + label_text(labels) + " " + value + "\n";
  }
  return out;
}

}  // namespace pg_ha::sidecar
