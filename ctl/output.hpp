// Talking to the operator: results on stdout (text or JSON), questions and errors on stderr.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "args.hpp"

namespace pg_ha::ctl {

// Parses a JSON document the server returned; a broken one is a Failure(kExitRefused).
nlohmann::json parse_server_json(const std::string& text, const std::string& what);

// Prints `doc` as pretty JSON in either format, or `pretty` when the format is pretty.
void print_result(const Options& o, const nlohmann::json& doc, const std::string& pretty);

// Asks "<question> [y/N]" on stderr unless --force; anything but y/yes (or end of input) throws
// Failure(kExitRefused, "aborted: nothing changed").
void confirm(const Options& o, const std::string& question);

}  // namespace pg_ha::ctl
