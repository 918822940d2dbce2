// /metrics text: one "# HELP" and "# TYPE" per metric name, its samples together (the real
// endpoint is checked by tests/sidecar/check_metrics.py in tests/ctl's cluster test).
#include <gtest/gtest.h>

#include "metrics.hpp"

namespace pg_ha::sidecar {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(MetricsText, OneHelpAndTypePerNameWithItsSamplesTogether) {
  MetricsText m;
  m.add("pg_ha_up", "gauge", "up", {{"node", "n1"}}, "1");
  for (const char* role : {"primary", "replica", "unknown"})
    m.add("pg_ha_role", "gauge", "1 for this node's current role", {{"node", "n1"}, {"role", role}}, role[0] == 'p' ? "1" : "0");
  m.add("pg_ha_failovers_total", "counter", "failovers", {}, "2");
  EXPECT_EQ(m.render(),
            "# HELP pg_ha_up up\n# TYPE pg_ha_up gauge\npg_ha_up{node=\"n1\"} 1\n"
            "# HELP pg_ha_role 1 for this node's current role\n# TYPE pg_ha_role gauge\n"
            "pg_ha_role{node=\"n1\",role=\"primary\"} 1\npg_ha_role{node=\"n1\",role=\"replica\"} 0\n"
            "pg_ha_role{node=\"n1\",role=\"unknown\"} 0\n"
            "# HELP pg_ha_failovers_total failovers\n# TYPE pg_ha_failovers_total counter\npg_ha_failovers_total 2\n");
  EXPECT_EQ(count(m.render(), "# HELP pg_ha_role "), 1u);
}

TEST(MetricsText, SamplesAddedLaterJoinTheirFamily) {
  MetricsText m;
  m.add("a", "gauge", "a", {{"x", "1"}}, "1");
  m.add("b", "gauge", "b", {}, "2");
  m.add("a", "gauge", "a", {{"x", "2"}}, "3");
  EXPECT_EQ(m.render(), "# HELP a a\n# TYPE a gauge\na{x=\"1\"} 1\na{x=\"2\"} 3\n# HELP b b\n# TYPE b gauge\nb 2\n");
}

TEST(MetricsText, LabelValuesAndHelpAreEscaped) {
  MetricsText m;
  m.add("a", "gauge", "back\\slash\nnew line", {{"node", "we\"ird\\na\nme"}}, "1");
  EXPECT_EQ(m.render(), "# HELP a back\\\\slash\\nnew line\n# TYPE a gauge\na{node=\"we\\\"ird\\\\na\\nme\"} 1\n");
}

}  // namespace
}  // namespace pg_ha::sidecar
