// pg_hactl: Patroni's patronictl verbs for pg_ha, on top of the SQL API of any node
// (docs/operations.md). Results on stdout, errors on stderr, exit codes in failure.hpp.
#include <iostream>
#include <map>
#include <functional>

#include <CLI/CLI.hpp>

#include "args.hpp"
#include "failure.hpp"
#include "verbs.hpp"
#include "common/no_postgres.hpp"

using namespace pg_ha::ctl;

int main(int argc, char** argv) {
  CLI::App app;
  Options o;
  define_cli(app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);   // prints help (rc 0) or the usage error
    return rc == 0 ? kExitOk : kExitUsage;
  }
  const std::map<std::string, std::function<int()>> verbs = {
      {"list", [&] { return run_list(o, false); }},
      {"topology", [&] { return run_list(o, true); }},
      {"show-config", [&] { return run_show_config(o); }},
      {"history", [&] { return run_history(o); }},
      {"edit-config", [&] { return run_edit_config(o); }},
      {"switchover", [&] { return run_switchover(o); }},
      {"failover", [&] { return run_failover(o); }},
      {"restart", [&] { return run_restart(o); }},
      {"reinit", [&] { return run_reinit(o); }},
      {"remove", [&] { return run_remove(o); }},
      {"pause", [&] { return run_pause(o, true); }},
      {"resume", [&] { return run_pause(o, false); }},
  };
  try {
    return verbs.at(app.get_subcommands().front()->get_name())();
  } catch (const Failure& f) {
    std::cerr << "pg_hactl: " << f.what() << "\n";
    return f.code();
  } catch (const std::exception& e) {
    std::cerr << "pg_hactl: unexpected error: " << e.what() << "\n";
    return kExitRefused;
  }
}
