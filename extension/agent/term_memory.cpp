#include "agent/term_memory.hpp"

#include <unistd.h>

#include <sstream>
#include <string>

#include "agent/files.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::agent {

// "<term> <system identifier>\n"
Result<TermSeen> read_highest_term(const std::string& state_dir) {
  auto text = read_file(state_dir + "/" + kHighestTermFile);
  if (!text.ok()) {
    if (text.error().kind == ErrorKind::NotFound) return TermSeen{};
    return text.error();
  }
  std::istringstream in(*text);
  TermSeen seen;
  std::string rest;
  if (!(in >> seen.term >> seen.system_identifier) || seen.term < 0 || (in >> rest))
    return make_error(ErrorKind::Protocol, std::string(kHighestTermFile) + " does not hold a term and a system identifier");
  return seen;
}

Status write_highest_term(const std::string& state_dir, const TermSeen& seen) {
  return files::write_atomically(state_dir + "/" + kHighestTermFile,
                                 std::to_string(seen.term) + " " + seen.system_identifier + "\n", files::WriteOptions{0600});
}

bool forget_highest_term(const std::string& state_dir) {
  return unlink((state_dir + "/" + kHighestTermFile).c_str()) == 0;
}

}  // namespace pg_ha::agent
