-- postgresql.parameters in the cluster config are judged by PostgreSQL's own GUC rules before
-- anything is written to etcd: the name must exist, the value must parse and lie in range, and a
-- parameter only a superuser may change server-wide needs a superuser caller (or a GRANT ALTER
-- SYSTEM ON PARAMETER: run-regress.sh grants wal_sender_timeout to regress_pg_ha_admin_login).
-- Patches merge, so a refused one that had been written anyway would show in the config read
-- after the next good one. (The node is fenced here: no DDL, hence no helper function.)

-- a plain role may not change the config at all
SET ROLE regress_pg_ha_plain;
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"work_mem": "8MB"}}}');
RESET ROLE;

SET ROLE regress_pg_ha_admin_login;
-- bad name, bad value, out of range, wrong unit, not settable in a file, bad custom name
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"no_such_guc": "1"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"work_mem": "abc"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"work_mem": 100000000000}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"work_mem": "12 parsecs"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"client_min_messages": "everything"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"server_version": "99"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"regress..bad": "1"}}}');
-- one bad parameter refuses the whole patch, the good ones with it
SELECT pg_ha.set_config('{"ttl": 30, "postgresql": {"parameters": {"work_mem": "8MB", "jit": "maybe"}}}');
-- what only a superuser may change server-wide: code as the OS user, libraries, logging,
-- server-wide resources, custom modules
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"archive_command": "sh -c id"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"restore_command": "sh -c id"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"ssl_passphrase_command": "sh -c id"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"archive_library": "evil"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"session_preload_libraries": "evil"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"log_min_duration_statement": 0}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"max_connections": 120}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"regress.custom": "x"}}}');
-- removing one needs the same privilege
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"archive_command": null}}}');
-- what any role may SET for itself is fine for pgha_admin, also as a number or a boolean; and
-- what a superuser granted it with GRANT ALTER SYSTEM ON PARAMETER (still validated)
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"wal_sender_timeout": "5 fortnights"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"work_mem": "8MB", "statement_timeout": 60000, "jit": false, "wal_sender_timeout": "7s"}}}') - 'revision' AS done;
RESET ROLE;
SELECT regress_wait_for($$pg_ha.config()->'postgresql'->'parameters' ? 'work_mem'$$);
SELECT pg_ha.config()->'postgresql'->'parameters' AS parameters, pg_ha.config()->'ttl' AS ttl;

-- a superuser may set what only superusers may (still validated), and custom names
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"max_connections": "abc"}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"max_connections": 100000000}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"archive_command": "/bin/true", "log_min_duration_statement": "1s", "regress.custom": "x"}}}') - 'revision' AS done;
SELECT regress_wait_for($$pg_ha.config()->'postgresql'->'parameters' ? 'archive_command'$$);
SELECT pg_ha.config()->'postgresql'->'parameters' AS parameters;
-- pgha_admin may change other parameters while those stay in place, but not remove them, one by
-- one or wholesale
SET ROLE regress_pg_ha_admin_login;
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"work_mem": "16MB"}}}') - 'revision' AS done;
SELECT pg_ha.set_config('{"postgresql": {"parameters": {"regress.custom": null}}}');
SELECT pg_ha.set_config('{"postgresql": {"parameters": null}}');
SELECT pg_ha.set_config('{"postgresql": null}');
RESET ROLE;
SELECT regress_wait_for($$pg_ha.config()->'postgresql'->'parameters'->>'work_mem' = '16MB'$$);
SELECT pg_ha.config()->'postgresql'->'parameters' AS parameters;
-- back to no parameters, for the phases that follow
SELECT pg_ha.set_config('{"postgresql": {"parameters": null}}') - 'revision' AS done;
SELECT regress_wait_for($$pg_ha.config()->'postgresql'->'parameters' = '{}'$$);
