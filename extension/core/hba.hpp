// Client access rules in the cluster config (`postgresql.pg_hba`, docs/operations.md "Client
// access: pg_hba"), and the part of each node's pg_hba.conf they occupy.
//
// The sidecar writes pg_hba.conf: its own rules first (local peer access for itself and the
// worker, replication and pg_rewind from replication_networks), then a section between two
// marker lines holding the cluster's rules, then its client_networks. Because the sidecar's rules
// come first, no cluster rule can lock out replication or the sidecar. The worker replaces only
// that section when the config changes, then reloads; the sidecar, at its next start, renders the
// section from etcd's config (or keeps the one it finds when etcd cannot say).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace pg_ha::core {

constexpr size_t kMaxHbaRules = 200;
constexpr size_t kMaxHbaLineLength = 1000;
constexpr const char* kHbaBeginMarker = "# BEGIN pg_ha cluster rules (postgresql.pg_hba, pg_ha.set_config); do not edit";
constexpr const char* kHbaEndMarker = "# END pg_ha cluster rules";

// One pg_hba.conf record as PostgreSQL 15 parses it: type, database, user, address (host types;
// an IP address and a separate mask, a CIDR, a host name, all, samehost or samenet), method
// (PostgreSQL 15's list) and key=value options. Refused as well: a line that is not a single
// record (empty, a comment, a continuation, a newline or NUL), `include` directives and
// @file references (they would read other files into the rules). The error names the line.
Status validate_hba_line(const std::string& line);
// The whole list: at most kMaxHbaRules lines, each valid.
Status validate_hba_rules(const std::vector<std::string>& rules);

// "10.0.0.0/8", "::1/128": an IP address and a prefix length in range.
bool valid_cidr(const std::string& text);

// The section as it appears in pg_hba.conf, markers included.
std::string render_cluster_hba_section(const std::vector<std::string>& rules);
// `file` with its cluster section replaced by `rules`; nullopt when it has no (well-formed)
// section, i.e. the file is not one the sidecar wrote, and must be left alone.
std::optional<std::string> replace_cluster_hba_section(const std::string& file, const std::vector<std::string>& rules);
// The rules in `file`'s cluster section; nullopt when it has none.
std::optional<std::vector<std::string>> cluster_hba_rules(const std::string& file);

}  // namespace pg_ha::core
