// edit-config: the new config comes from --set/--pg or from $EDITOR on the pretty JSON; the
// operator sees the diff and confirms (unless --force); only the merge patch between the two is
// sent to pg_ha.set_config(), which merges it into etcd's config with a compare on its revision.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "config_patch.hpp"
#include "failure.hpp"
#include "output.hpp"
#include "sql_client.hpp"
#include "verbs.hpp"
#include "common/no_postgres.hpp"

namespace pg_ha::ctl {
namespace {

json read_config(SqlClient& db) { return parse_server_json(db.value("SELECT pg_ha.config()::text"), "the config"); }

std::string editor_command() {
  for (const char* var : {"VISUAL", "EDITOR"})
    if (const char* e = std::getenv(var); e && *e) return e;
  return "vi";
}

// Writes `doc` to a private temp file, runs the editor on it, returns what was saved.
json edit_in_editor(const json& doc) {
  char path[] = "/tmp/pg_hactl-config-XXXXXX.json";
  int fd = mkstemps(path, 5);
  if (fd < 0) throw Failure(kExitRefused, "cannot create a temporary file for the editor");
  close(fd);
  struct Remove {
    const char* p;
    ~Remove() { std::remove(p); }
  } remove_later{path};
  std::ofstream(path) << doc.dump(2) << "\n";
  std::string command = editor_command() + " '" + path + "'";
  int rc = std::system(command.c_str());
  if (rc != 0) throw Failure(kExitRefused, "the editor (" + editor_command() + ") failed: nothing changed");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  json edited = json::parse(text.str(), nullptr, false);
  if (edited.is_discarded() || !edited.is_object()) throw Failure(kExitUsage, "the edited config is not a JSON object: nothing changed");
  return edited;
}

json wanted_patch(const Options& o, const json& current) {
  if (o.sets.empty() && o.pg.empty()) return merge_patch_between(current, edit_in_editor(current));
  auto patch = patch_from_assignments(o.sets, o.pg);
  if (!patch.ok()) throw Failure(kExitUsage, patch.error().message);
  return *patch;
}

}  // namespace

int run_edit_config(const Options& o) {
  SqlClient db(o.dsn);
  json current = read_config(db);
  json patch = wanted_patch(o, current);
  std::string diff = line_diff(current.dump(2), apply_merge_patch(current, patch).dump(2));
  if (diff.empty()) {
    print_result(o, json{{"changed", false}}, "no changes\n");
    return kExitOk;
  }
  if (o.format == Format::Pretty) std::cout << diff << std::flush;
  confirm(o, "Apply these changes?");
  // What the operator approved is a change against `current`: refuse if someone changed it since.
  if (read_config(db) != current)
    throw Failure(kExitRefused, "the config changed meanwhile: nothing applied; run edit-config again");
  json r = parse_server_json(db.value("SELECT pg_ha.set_config($1::jsonb)::text", {patch.dump()}), "set_config");
  print_result(o, json{{"changed", true}, {"patch", patch}, {"diff", diff}, {"result", r}}, r.value("done", "done") + "\n");
  return kExitOk;
}

}  // namespace pg_ha::ctl
