-- postgresql.pg_hba (client access rules) in the cluster config: each line must be a PostgreSQL 15
-- pg_hba record, and only a superuser may change the rules: a trust line would make anyone a
-- superuser, so pgha_admin may not, not even with the privileges it holds for parameters.
-- Patches merge, so a refused one that had been written anyway would show in the config read
-- after the next good one.

-- pgha_admin: refused whatever the rules say (a trust line, a reject line, dropping them)
SET ROLE regress_pg_ha_admin_login;
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host all all 0.0.0.0/0 trust"]}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host all all 0.0.0.0/0 reject"]}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": null}}');
RESET ROLE;

-- a superuser: malformed lines are refused, each named
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": "host all all 10.0.0.0/8 trust"}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host all all 10.0.0.0/33 trust"]}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host all all 10.0.0.0/8 scram-sha-256", "include /etc/passwd"]}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host @/etc/passwd all 10.0.0.0/8 trust"]}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host all all 10.0.0.0/8 scram-sha-256\nhost all all 0.0.0.0/0 trust"]}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host all all 10.0.0.0/8 magic"]}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["local all all"]}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host all all 10.0.0.0/8 peer"]}}');
-- well-formed, but PostgreSQL's own parser (as for pg_hba_file_rules) refuses them: they would
-- keep a node from starting
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host all all 10.0.0.0/8 md5 nosuchoption=1"]}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host all all 10.0.0.0/8 ldap"]}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host all all 10.0.0.0/8 md5 clientcert=verify-ca"]}}');
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["host all all 10.0.0.0/8 radius radiusservers=127.0.0.1"]}}');
-- good rules
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": ["hostssl app app_user 10.1.0.0/16 scram-sha-256", "host all all 192.168.0.0 255.255.0.0 md5"]}}') - 'revision' AS done;
SELECT regress_wait_for($$jsonb_array_length(pg_ha.config()->'postgresql'->'pg_hba') = 2$$);
SELECT pg_ha.config()->'postgresql'->'pg_hba' AS pg_hba;
-- pgha_admin may still change other keys; the rules stay as they were
SET ROLE regress_pg_ha_admin_login;
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": []}}');
SELECT pg_ha.set_config('{"postgresql": null}');
SELECT pg_ha.set_config('{"history_limit": 98}') - 'revision' AS done;
RESET ROLE;
SELECT regress_wait_for($$pg_ha.config()->'history_limit' = '98'$$);
SELECT pg_ha.config()->'postgresql'->'pg_hba' AS pg_hba;
-- back to no rules, for the phases that follow
SELECT pg_ha.set_config('{"postgresql": {"pg_hba": null}}') - 'revision' AS done;
SELECT regress_wait_for($$NOT (pg_ha.config()->'postgresql' ? 'pg_hba')$$);
