// PostgreSQL's own judgement of a pg_hba.conf line for postgresql.pg_hba (core/hba.hpp checks
// the shape first): the server's tokenizer and parse_hba_line(), as the pg_hba_file_rules view
// uses them, so option names, the arguments a method requires (ldap, radius), clientcert only on
// hostssl, ... are decided by the same code that will read the file at the node's next reload or
// start. A line this accepts cannot keep a node from starting.
#pragma once

#include <string>

namespace pg_ha::pg {

// "" when PostgreSQL accepts the line, else its own message ("unrecognized authentication
// option name: ...").
std::string hba_line_problem(const std::string& line);

}  // namespace pg_ha::pg
