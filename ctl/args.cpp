#include "args.hpp"

#include <CLI/CLI.hpp>

#include "common/no_postgres.hpp"

namespace pg_ha::ctl {
namespace {

void add_confirm(CLI::App* sub, Options& o) { sub->add_flag("-f,--force", o.force, "do not ask for confirmation"); }

}  // namespace

void define_cli(CLI::App& app, Options& o) {
  app.description(
      "pg_hactl: operate a pg_ha cluster through the SQL API of any of its nodes.\n"
      "Exit codes: 0 ok, 1 refused by the cluster (nothing changed), 2 usage, 3 cannot connect.");
  app.add_option("-d,--dsn", o.dsn,
                 "libpq connection string, URI or service=NAME of any node (default: the PG* environment)");
  app.add_option_function<std::string>(
         "--format", [&o](const std::string& v) { o.format = v == "json" ? Format::Json : Format::Pretty; },
         "output: pretty (tables, the default) or json")
      ->check(CLI::IsMember({"pretty", "json"}))
      ->type_name("pretty|json");
  app.require_subcommand(1);
  app.fallthrough();   // global options may also follow the verb

  CLI::App* list = app.add_subcommand("list", "the members: host, role, state, timeline, lag");
  list->add_option("-w,--watch", o.watch_s, "repeat every N seconds until interrupted")->check(CLI::PositiveNumber);
  CLI::App* topology = app.add_subcommand("topology", "the members as a tree under the primary");
  topology->add_option("-w,--watch", o.watch_s, "repeat every N seconds until interrupted")->check(CLI::PositiveNumber);
  app.add_subcommand("show-config", "the dynamic cluster configuration (JSON)");
  app.add_subcommand("history", "failovers and switchovers, oldest first");

  CLI::App* edit = app.add_subcommand("edit-config", "change the dynamic configuration ($EDITOR, or --set/--pg)");
  edit->add_option("-s,--set", o.sets, "key=value (dotted path; JSON value or text; null removes)")->take_all();
  edit->add_option("-p,--pg", o.pg, "PostgreSQL parameter name=value (postgresql.parameters.<name>)")->take_all();
  add_confirm(edit, o);

  CLI::App* sw = app.add_subcommand("switchover", "planned switchover to a replica");
  sw->add_option("-c,--candidate", o.candidate, "the new primary (default: the best eligible replica)");
  sw->add_option("--wait", o.wait_s, "seconds to wait for the new primary (0: return at once)")->check(CLI::NonNegativeNumber);
  add_confirm(sw, o);

  CLI::App* fo = app.add_subcommand("failover", "promote a named replica, also without a live primary");
  fo->add_option("-c,--candidate", o.candidate, "the new primary")->required();
  fo->add_flag("--allow-data-loss", o.allow_data_loss,
               "promote it even if it is outside the synchronous set (may lose acknowledged commits)");
  fo->add_option("--wait", o.wait_s, "seconds to wait for the new primary (0: return at once)")->check(CLI::NonNegativeNumber);
  add_confirm(fo, o);

  CLI::App* restart = app.add_subcommand("restart", "restart PostgreSQL on members (replicas first, primary last)");
  restart->add_option("member", o.nodes, "members to restart");
  restart->add_flag("--all", o.all, "every member");
  restart->add_flag("--pending", o.pending, "only members with a pending restart (with --all or alone: all of those)");
  add_confirm(restart, o);

  CLI::App* reinit = app.add_subcommand("reinit", "re-clone a replica from the primary (its old data directory is kept aside)");
  reinit->add_option("member", o.member, "the replica to reinitialize")->required();
  add_confirm(reinit, o);

  CLI::App* remove = app.add_subcommand("remove", "delete what etcd still holds of a stopped member");
  remove->add_option("member", o.member, "the member to remove (stop its sidecar first)")->required();
  add_confirm(remove, o);

  app.add_subcommand("pause", "maintenance mode: no automatic failover or restarts");
  app.add_subcommand("resume", "leave maintenance mode");
}

}  // namespace pg_ha::ctl
