// Read-only verbs: list, topology, show-config, history.
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <thread>


#include "cluster_query.hpp"
#include "failure.hpp"
#include "member_table.hpp"
#include "output.hpp"
#include "table.hpp"
#include "verbs.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::ctl {
namespace {

using json = nlohmann::json;

void print_cluster(const Options& o, bool topology) {
  SqlClient db(o.dsn);
  json cluster = read_cluster(db);
  print_result(o, cluster, render_members(cluster, topology));
}

std::string now_text() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&t));
  return buf;
}

std::string cell(const json& row, const char* key) {
  auto it = row.find(key);
  if (it == row.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

int run_list(const Options& o, bool topology) {
  if (o.watch_s <= 0) {
    print_cluster(o, topology);
    return kExitOk;
  }
  // Until interrupted; a node that cannot be reached is reported and asked again next time.
  bool tty = isatty(STDOUT_FILENO);
  for (;;) {
    if (tty && o.format == Format::Pretty) std::cout << "\033[H\033[2J";
    if (o.format == Format::Pretty) std::cout << now_text() << "\n";
    try {
      print_cluster(o, topology);
    } catch (const Failure& f) {
      std::cerr << "pg_hactl: " << f.what() << "\n";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(o.watch_s * 1000)));
  }
}

int run_show_config(const Options& o) {
  SqlClient db(o.dsn);
  json config = parse_server_json(db.value("SELECT pg_ha.config()::text"), "the config");
  print_result(o, config, config.dump(2) + "\n");
  return kExitOk;
}

int run_history(const Options& o) {
  SqlClient db(o.dsn);
  json rows = parse_server_json(
      db.value("SELECT coalesce(json_agg(h), '[]')::text FROM (SELECT term, reason, old_primary, new_primary, "
               "timeline, lsn, to_char(at, 'YYYY-MM-DD HH24:MI:SS.MS TZ') AS at FROM pg_ha.history()) h"),
      "the history");
  Table t;
  t.header = {"Term", "Reason", "Old primary", "New primary", "TL", "LSN", "At"};
  t.right_aligned = {true, false, false, false, true, false, false};
  for (const json& h : rows)
    t.rows.push_back({cell(h, "term"), cell(h, "reason"), cell(h, "old_primary"), cell(h, "new_primary"),
                      cell(h, "timeline"), cell(h, "lsn"), cell(h, "at")});
  print_result(o, rows, render_table(t));
  return kExitOk;
}

}  // namespace pg_ha::ctl
