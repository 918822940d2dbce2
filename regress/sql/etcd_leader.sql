-- The cluster was initialized with this node's system identifier: it takes term 1, unfences and
-- writes.
-- (the fence opens first; the published status follows within a loop)
SELECT regress_wait_fenced(false) AS unfenced;
SELECT regress_wait_for($$(SELECT state = 'primary' FROM pg_ha.node_status())
                          AND (SELECT leader IS NOT NULL FROM pg_ha.cluster())
                          AND EXISTS (SELECT FROM pg_ha.history())$$) AS status_caught_up;
SELECT name, role, state, timeline, fenced, fence_reason, etcd_reachable, standalone FROM pg_ha.node_status();
SELECT ok, reason->>'role' AS role FROM pg_ha.health_primary();
SELECT leader, term, paused, sync_standbys, config->'ttl' AS ttl FROM pg_ha.cluster();
SELECT term, reason, old_primary, new_primary, timeline, lsn > '0/0' AS has_lsn, at IS NOT NULL AS has_at
  FROM pg_ha.history();
SELECT name, role, state, timeline, lag_bytes, sync FROM pg_ha.members();
INSERT INTO regress_lead VALUES (1);
SELECT count(*) FROM regress_lead;
-- control against the live cluster
SELECT pg_ha.switchover('nosuchnode');
SELECT pg_ha.switchover('regress1');
SELECT pg_ha.switchover();
SELECT pg_ha.failover('nosuchnode');
SELECT pg_ha.restart('nosuchnode');
SELECT pg_ha.pause() - 'revision' AS done;
SELECT regress_wait_for('(SELECT paused FROM pg_ha.cluster())') AS paused_seen;
SELECT fenced FROM pg_ha.node_status();
SELECT pg_ha.resume() - 'revision' AS done;
SELECT regress_wait_for('(SELECT NOT paused FROM pg_ha.cluster())') AS resumed_seen;
