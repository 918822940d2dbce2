// Prometheus text exposition format 0.0.4 for /metrics: samples are collected per metric name
// and written as one family each, "# HELP" and "# TYPE" once, then every sample of that name
// (several label sets, such as pg_ha_role{role=...}). Pure: no I/O.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace pg_ha::sidecar {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsText {
 public:
  // Adds one sample. The first add of a name fixes its type and help; families are written in
  // the order their names first appeared.
  void add(const std::string& name, const std::string& type, const std::string& help, const MetricLabels& labels,
           const std::string& value);
  std::string render() const;

 private:
  struct Family {
    std::string name, type, help;
    std::vector<std::pair<MetricLabels, std::string>> samples;
  };
  std::vector<Family> families_;
};

}  // namespace pg_ha::sidecar
