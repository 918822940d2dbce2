-- What phase_fenced (fenced.sh) needs, made while the server still runs standalone.
CREATE ROLE regress_pg_ha_plain LOGIN;
CREATE ROLE regress_pg_ha_admin_login LOGIN IN ROLE pgha_admin;
CREATE ROLE regress_pg_ha_replication LOGIN REPLICATION;
CREATE TABLE regress_fence (id int);
CREATE SEQUENCE regress_fence_seq;
BEGIN; INSERT INTO regress_fence VALUES (1); PREPARE TRANSACTION 'regress_before_fence';
BEGIN; INSERT INTO regress_fence VALUES (2); PREPARE TRANSACTION 'regress_rollback_later';
