#include "agent/term_memory.hpp"

#include <unistd.h>

#include <stdexcept>
#include <string>

#include "agent/files.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::agent {

Result<int64_t> read_highest_term(const std::string& state_dir) {
  auto text = read_file(state_dir + "/" + kHighestTermFile);
  if (!text.ok()) {
    if (text.error().kind == ErrorKind::NotFound) return int64_t{0};
    return text.error();
  }
  try {
    size_t used = 0;
    long long term = std::stoll(*text, &used);
    if (term < 0 || text->find_first_not_of(" \n", used) != std::string::npos) throw std::invalid_argument("trailing");
    return static_cast<int64_t>(term);
  } catch (const std::exception&) {
    return make_error(ErrorKind::Protocol, std::string(kHighestTermFile) + " does not hold a term");
  }
}

Status write_highest_term(const std::string& state_dir, int64_t term) {
  return files::write_atomically(state_dir + "/" + kHighestTermFile, std::to_string(term) + "\n", files::WriteOptions{0600});
}

bool forget_highest_term(const std::string& state_dir) {
  return unlink((state_dir + "/" + kHighestTermFile).c_str()) == 0;
}

}  // namespace pg_ha::agent
