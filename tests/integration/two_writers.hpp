// The split-brain check of the integration and fault suites, over what the watch sampled: pure,
// so its own tests (two_writers_test.cpp) show it finds what it must.
#pragma once

#include <string>
#include <vector>

#include "cluster.hpp"

namespace pg_ha::test {

// "" when the samples show one writable lineage at a time; otherwise what shows two:
//   a node's lineage (its answers on one timeline) writable in an answer that began after an
//   answer of a newer lineage had ended: the old lineage still took writes once the new one did.
// Lineages are ordered by timeline; two on one timeline (two promotions that chose the same
// number because the second could not see the first's history file, docs/protocol.md) by their
// first answer, so one after the other passes and interleaved answers are found.
// Answers are ordered only by their [before_us, after_us] windows, never by when the probe sent
// or received them, so a slow probe connection cannot make two answers look simultaneous.
std::string two_writers(const std::vector<WritableSample>& samples);

}  // namespace pg_ha::test
