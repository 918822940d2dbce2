-- Standalone (no etcd endpoints): every status function says so plainly; nothing is fenced.
\x on
SELECT name, role, state, timeline > 0 AS has_timeline, flush_lsn > '0/0' AS has_flush_lsn,
       replay_lsn IS NOT NULL AS has_replay_lsn, lag_bytes, fenced, fence_reason, etcd_reachable,
       standalone, last_decision, reason
  FROM pg_ha.node_status();
\x off

SELECT name, role, state, timeline > 0 AS has_timeline, lag_bytes, tags, host, port > 0 AS has_port, api_url,
       pending_restart, sync
  FROM pg_ha.members();

SELECT * FROM pg_ha.cluster();
SELECT count(*) AS history_rows FROM pg_ha.history();
SELECT * FROM pg_ha.health_primary();
SELECT * FROM pg_ha.health_replica();
SELECT * FROM pg_ha.health_replica(1024);
SELECT pg_ha.config();

-- No fence on a standalone server: writes commit.
CREATE TABLE regress_pg_ha_writes (id int);
INSERT INTO regress_pg_ha_writes VALUES (1);
BEGIN;
INSERT INTO regress_pg_ha_writes VALUES (2);
COMMIT;
SELECT count(*) FROM regress_pg_ha_writes;
DROP TABLE regress_pg_ha_writes;

-- Control functions refuse plainly: there is no cluster.
SELECT pg_ha.switchover();
SELECT pg_ha.pause();
SELECT pg_ha.failover('regress2');
SELECT pg_ha.set_config('{"ttl": 20}');
SELECT pg_ha.restart('regress1');
SELECT pg_ha.reinit('regress1');
SELECT pg_ha.remove('regress1');
