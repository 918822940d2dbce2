-- Status needs pg_monitor (or pgha_admin); control needs pgha_admin (or superuser), checked by
-- the GRANTs and again in C++.
SET ROLE regress_pg_ha_plain;
SELECT name FROM pg_ha.node_status();
SELECT count(*) FROM pg_ha.members();
SELECT * FROM pg_ha.cluster();
SELECT count(*) FROM pg_ha.history();
SELECT ok FROM pg_ha.health_primary();
SELECT ok FROM pg_ha.health_replica();
SELECT pg_ha.config() IS NOT NULL;
SELECT pg_ha.switchover();
SELECT pg_ha.pause();
RESET ROLE;

SET ROLE regress_pg_ha_monitor;
SELECT name, standalone FROM pg_ha.node_status();
SELECT count(*) FROM pg_ha.members();
SELECT ok FROM pg_ha.health_primary();
SELECT pg_ha.switchover('regress2');
SELECT pg_ha.failover('regress2');
SELECT pg_ha.pause();
SELECT pg_ha.resume();
SELECT pg_ha.set_config('{}');
SELECT pg_ha.restart('regress1');
SELECT pg_ha.reinit('regress1');
SELECT pg_ha.remove('regress1');
SELECT pg_ha._test_raise('none');
RESET ROLE;

-- An admin passes the privilege checks (and then meets the standalone refusal).
SET ROLE regress_pgha_admin_user;
SELECT name FROM pg_ha.node_status();
SELECT pg_ha.pause();
RESET ROLE;

-- A stray GRANT of EXECUTE does not hand out cluster control: C++ checks again.
GRANT EXECUTE ON FUNCTION pg_ha.pause() TO regress_pg_ha_plain;
SET ROLE regress_pg_ha_plain;
SELECT pg_ha.pause();
RESET ROLE;
REVOKE EXECUTE ON FUNCTION pg_ha.pause() FROM regress_pg_ha_plain;

-- Test functions and secret settings stay with superusers.
SET ROLE regress_pgha_admin_user;
SET pg_ha.enable_test_functions = on;
SHOW pg_ha.etcd_password_file;
RESET ROLE;
