#include "output.hpp"

#include <iostream>

#include "failure.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::ctl {

nlohmann::json parse_server_json(const std::string& text, const std::string& what) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) throw Failure(kExitRefused, "the server returned invalid JSON for " + what);
  return doc;
}

void print_result(const Options& o, const nlohmann::json& doc, const std::string& pretty) {
  if (o.format == Format::Json) std::cout << doc.dump(2) << "\n";
  else std::cout << pretty;
  std::cout.flush();
}

void confirm(const Options& o, const std::string& question) {
  if (o.force) return;
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer) || (answer != "y" && answer != "Y" && answer != "yes"))
    throw Failure(kExitRefused, "aborted: nothing changed");
}

}  // namespace pg_ha::ctl
