-- A hot standby with pg_ha (standalone): never fenced, reports itself as a streaming replica.
DO $$
BEGIN
  FOR i IN 1..100 LOOP   -- the WAL receiver connects within a moment
    EXIT WHEN (SELECT status = 'streaming' FROM pg_stat_wal_receiver);
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT name, role, state, timeline, flush_lsn >= replay_lsn AS received_ahead_of_replay, fenced, fence_reason,
       standalone FROM pg_ha.node_status();
SELECT ok, reason->>'role' AS role, reason->>'receiver_state' AS receiver, reason->>'problem' AS problem
  FROM pg_ha.health_replica();
-- a standalone replica cannot know the primary's position: a lag bound cannot be checked
SELECT ok, reason->>'problem' AS problem, reason->'lag_bytes' AS lag FROM pg_ha.health_replica(1024);
SELECT ok, reason->>'problem' AS problem FROM pg_ha.health_primary();
SELECT name, role, lag_bytes FROM pg_ha.members();
SELECT leader FROM pg_ha.cluster();
