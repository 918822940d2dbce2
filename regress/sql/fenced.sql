-- A primary with etcd configured but unreachable holds no leadership lease: it is fenced. Reads
-- go on; every commit of a transaction that wrote is refused (SQLSTATE 25006), whatever the
-- fence reason text of the moment.
SELECT standalone, role, fenced, fence_reason IS NOT NULL AS has_reason, etcd_reachable
  FROM pg_ha.node_status();
SELECT ok, reason->>'problem' AS problem, reason->'fenced' AS fenced FROM pg_ha.health_primary();
SELECT ok FROM pg_ha.health_replica();

\set VERBOSITY sqlstate
-- reads and read-only transactions
SELECT count(*) FROM regress_fence;
BEGIN;
SELECT count(*) FROM regress_fence;
COMMIT;
-- writes: autocommit, explicit transaction, DDL, sequences, 2PC
INSERT INTO regress_fence VALUES (3);
BEGIN;
INSERT INTO regress_fence VALUES (4);
COMMIT;
CREATE TABLE regress_fence_new (id int);
CREATE TEMP TABLE regress_fence_temp (id int);
SELECT nextval('regress_fence_seq');
BEGIN;
INSERT INTO regress_fence VALUES (5);
PREPARE TRANSACTION 'regress_during_fence';
-- a transaction prepared before the fence cannot be committed now, only rolled back
COMMIT PREPARED 'regress_before_fence';
ROLLBACK PREPARED 'regress_rollback_later';
\set VERBOSITY default
-- nothing was written
SELECT count(*) FROM regress_fence;
SELECT gid FROM pg_prepared_xacts ORDER BY gid;

-- etcd hangs: a control function gives up at pg_ha.etcd_timeout_ms (500 ms here) ...
\set VERBOSITY sqlstate
SELECT pg_ha.pause();
\set VERBOSITY default
-- ... or earlier, at a statement timeout, reported by PostgreSQL itself
SET statement_timeout = '100ms';
SELECT pg_ha.pause();
RESET statement_timeout;
SELECT 1 AS alive;
