// The one way pg_ha quotes a value for postgresql.conf and for a libpq conninfo string, and the
// one reader of a postgresql.conf quoted value (the sidecar's own config file uses it too).
// Pure string functions: the agent (pg_ha.auto.conf) and the sidecar (postgresql.conf,
// pg_basebackup, pg_rewind) link the same code, and tests/fuzz checks that each quoted value
// reads back as the input.
#pragma once

#include <string>

namespace pg_ha::quoting {

// 'value' as postgresql.conf reads it: '' for a quote, backslash escapes for backslash, newline
// and carriage return, so the result is always one line. NUL bytes (which no GUC can hold) are
// dropped. Reads back with read_conf_quoted exactly when the input holds no NUL.
std::string conf_value(const std::string& value);

// Reads a quoted value the way PostgreSQL's configuration lexer and GUC_scanstr do, starting at
// text[pos] == '\''. Returns the position after the closing quote, or std::string::npos when the
// value is unterminated or spans a line.
size_t read_conf_quoted(const std::string& text, size_t pos, std::string* out);

// 'value' as libpq's conninfo parser reads it: backslash before a quote or backslash. NUL bytes
// are dropped (a C string cannot carry them).
std::string conninfo_value(const std::string& value);

}  // namespace pg_ha::quoting
