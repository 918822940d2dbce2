// pg_hactl's command line (CLI11): global options, one subcommand per verb, and what was parsed.
#pragma once

#include <string>
#include <vector>

// Declared, not included: CLI11 is header-only and costs each source that includes it ~5 s to
// compile; only args.cpp and main.cpp need its definitions.
namespace CLI {
class App;
}

namespace pg_ha::ctl {

enum class Format { Pretty, Json };

struct Options {
  std::string dsn;                 // libpq connection string, URI or service=...; "" = PG* environment
  Format format = Format::Pretty;
  double watch_s = 0;              // list/topology --watch: repeat every N seconds
  std::string candidate;           // switchover/failover
  std::string member;              // reinit/remove
  bool force = false;              // no confirmation prompt
  bool allow_data_loss = false;    // failover to a member outside the synchronous set
  int wait_s = 60;                 // switchover/failover: wait for the new primary (0 = do not wait)
  std::vector<std::string> nodes;  // restart
  bool all = false;
  bool pending = false;
  std::vector<std::string> sets;   // edit-config --set key=value
  std::vector<std::string> pg;     // edit-config --pg name=value
};

// Defines the options and subcommands on `app`, writing into `o`.
void define_cli(CLI::App& app, Options& o);

}  // namespace pg_ha::ctl
