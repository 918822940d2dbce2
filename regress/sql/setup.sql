-- Installs the extension and the roles the suite uses; lists the API with its signatures.
CREATE EXTENSION pg_ha;
SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname = 'pg_ha';
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'pgha_admin';

SELECT p.proname, pg_get_function_arguments(p.oid) AS arguments, pg_get_function_result(p.oid) AS result
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'pg_ha'
 ORDER BY p.proname;

CREATE ROLE regress_pg_ha_plain;
CREATE ROLE regress_pg_ha_monitor IN ROLE pg_monitor;
CREATE ROLE regress_pgha_admin_user IN ROLE pgha_admin;
