DROP EXTENSION pg_ha;
DROP ROLE regress_pg_ha_plain;
DROP ROLE regress_pg_ha_monitor;
DROP ROLE regress_pgha_admin_user;
