// The split-brain check of the integration and fault suites, over what the watch sampled: pure,
// so its own tests (two_writers_test.cpp) show it finds what it must.
#pragma once

#include <string>
#include <vector>

#include "cluster.hpp"

namespace pg_ha::test {

// "" when the samples show one writable lineage at a time; otherwise what shows two:
//   - two nodes writable on one timeline (every promotion starts a new one), or
//   - a node writable on an older timeline in an answer that began after an answer on a newer
//     timeline had ended: the old lineage still took writes once the new one did.
// Answers are ordered only by their [before_us, after_us] windows, never by when the probe sent
// or received them, so a slow probe connection cannot make two answers look simultaneous.
std::string two_writers(const std::vector<WritableSample>& samples);

}  // namespace pg_ha::test
