#include <cstdio>
#include <string>

#include "pg/hba_rules.hpp"
#include "pg/guarded.hpp"
#include "pg/pg_calls.hpp"  // last of ours: pulls in postgres.h

extern "C" {
#include "libpq/hba.h"  // tokenize_auth_file, parse_hba_line
#include "nodes/pg_list.h"
}

namespace pg_ha::pg {
namespace {

// Plain C under guard_call: *problem gets a palloc'd message, or stays NULL. DEBUG3 as the
// level: PostgreSQL reports the problem in err_msg without raising it.
void check_line_c(const char* line, size_t length, char** problem) {
  *problem = nullptr;
  FILE* file = fmemopen(const_cast<char*>(line), length, "r");
  if (file == nullptr) {
    *problem = pstrdup("could not read the rule");
    return;
  }
  List* lines = NIL;
  MemoryContext tokens = tokenize_auth_file("postgresql.pg_hba", file, &lines, DEBUG3);
  fclose(file);
  ListCell* cell;
  foreach (cell, lines) {
    TokenizedAuthLine* tokenized = static_cast<TokenizedAuthLine*>(lfirst(cell));
    if (tokenized->err_msg == nullptr && parse_hba_line(tokenized, DEBUG3) != nullptr) continue;
    *problem = pstrdup(tokenized->err_msg != nullptr ? tokenized->err_msg : "invalid rule");
    break;
  }
  if (*problem == nullptr && lines == NIL) *problem = pstrdup("empty rule");
  MemoryContextDelete(tokens);
}

}  // namespace

std::string hba_line_problem(const std::string& line) {
  char* problem = nullptr;
  guard_call(check_line_c, line.c_str(), line.size(), &problem);
  if (problem == nullptr) return "";
  std::string out = problem;
  pfree(problem);
  return out;
}

}  // namespace pg_ha::pg
