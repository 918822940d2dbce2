// The include files the sidecar's postgresql.conf reads last, in this order:
// - `<state_dir>/pg_ha.parameters.conf`: the cluster config's postgresql.parameters. Rendered
//   from etcd's `config` by the worker whenever it changes, and by the sidecar before it starts
//   postgres: a node that a bad parameter kept from starting comes back once the config in etcd
//   is fixed, although its worker (the usual writer) cannot run.
// - `<state_dir>/pg_ha.auto.conf`, the worker's alone: what the HA state decides, whom to stream
//   from (and through which slot) and the synchronous standbys. Last, so that no other file the
//   sidecar writes overrides it (postgresql.auto.conf would: kAutoConfParameters below).
// Both are rewritten atomically, then the postmaster reloads (PostgreSQL 13+ applies
// primary_conninfo without a restart).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

#include "core/decision.hpp"

namespace pg_ha::agent {

constexpr const char* kAutoConfFile = "pg_ha.auto.conf";
constexpr const char* kParametersConfFile = "pg_ha.parameters.conf";
// Written by the sidecar; the worker replaces only its cluster section (core/hba.hpp).
constexpr const char* kHbaFile = "pg_hba.conf";

// The parameters render_auto_conf writes, pg_ha's alone on every node. PostgreSQL reads
// postgresql.auto.conf (ALTER SYSTEM's file) after every file config_file includes, so a value
// there would override them: the sidecar removes them from it before postgres starts, and the
// extension refuses ALTER SYSTEM SET of them.
constexpr const char* kAutoConfParameters[] = {"primary_conninfo", "primary_slot_name", "synchronous_standby_names"};

// Extra libpq options for the connections a node makes to follow and to clone a primary
// (sslmode, sslrootcert, channel_binding, ...), as keyword/value pairs, in order.
using ConninfoOptions = std::vector<std::pair<std::string, std::string>>;

struct ReplicationSettings {
  std::string user = "replicator";
  std::string passfile;          // libpq passfile; the password never appears in this file
  std::string application_name;  // name@identity: the primary tells standbys, and identities, apart
  ConninfoOptions conninfo_options;
};

// Parses "sslmode=verify-full sslrootcert=/etc/pg/root.crt channel_binding=require": only
// libpq's TLS and authentication keywords (never host, user, password, dbname...), each value
// checked as far as libpq defines it, paths without blanks or quotes. The error names the word.
// Shared by the worker (pg_ha.replication_conninfo_options) and the sidecar's config.
Result<ConninfoOptions> parse_conninfo_options(const std::string& text);

// primary_slot_name: the slot to stream from (core::member_slot_name of this node), written only
// with a follow target; "" when the cluster runs without slots (use_slots false).
std::string render_auto_conf(const std::optional<core::FollowTarget>& follow, const ReplicationSettings& replication,
                             const std::string& synchronous_standby_names, const std::string& primary_slot_name = "");
std::string render_parameters_conf(const std::map<std::string, std::string>& parameters);

}  // namespace pg_ha::agent
