-- A real etcd that holds no cluster yet (no sidecar bootstrapped it): control functions read the
-- cluster from etcd, let the core judge the request against it, and write nothing when it refuses.
SELECT standalone, role, fenced FROM pg_ha.node_status();
-- the worker registers this node in etcd (its heartbeat) within a moment: wait for it. Its first
-- record may say replica: the worker starts with the postmaster, and a server still starting up
-- is in recovery; the next heartbeat says primary.
DO $$
BEGIN
  FOR i IN 1..100 LOOP
    EXIT WHEN EXISTS (SELECT FROM pg_ha.members() WHERE name = 'regress1' AND role = 'primary');
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT name, role, host, port > 0 AS has_port FROM pg_ha.members();
SELECT etcd_reachable, standalone FROM pg_ha.node_status();
SELECT pg_ha.switchover('nosuchnode');
SELECT pg_ha.switchover();
SELECT pg_ha.failover('nosuchnode');
SELECT pg_ha.failover('nosuchnode', true);
SELECT pg_ha.restart('nosuchnode');
SELECT pg_ha.reinit('nosuchnode');
-- no primary yet: nothing to clone from; a live member is not removed
SELECT pg_ha.reinit('regress1');
SELECT pg_ha.remove('nosuchnode');
SELECT pg_ha.remove('regress1');
SELECT pg_ha.pause();
SELECT pg_ha.resume();
-- the config: a patch that breaks a timing rule is refused; a good one is written
SELECT pg_ha.set_config('{"ttl": 2, "fence_after_ms": 5000, "fence_margin_ms": 1000}');
SELECT pg_ha.set_config('{"ttl": 20}') - 'revision' AS done;
SELECT pg_ha.set_config('{"maximum_lag_on_failover": 2097152}') - 'revision' AS done;
-- synchronous replication settings are validated before anything is written
SELECT pg_ha.set_config('{"synchronous_mode": "always"}');
SELECT pg_ha.set_config('{"synchronous_mode": true}');
SELECT pg_ha.set_config('{"synchronous_mode_strict": "yes"}');
SELECT pg_ha.set_config('{"synchronous_node_count": 0}');
SELECT pg_ha.set_config('{"synchronous_node_count": 1.5}');
SELECT pg_ha.set_config('{"postgresql": {"synchronous_standby_names": "*"}}');
SELECT pg_ha.config()->>'synchronous_mode' AS unchanged;
SELECT pg_ha.set_config('{"synchronous_mode": "quorum", "synchronous_node_count": 2}') - 'revision' AS done;
-- pg_ha.config() shows what the worker last read from etcd (within a loop_wait)
DO $$ BEGIN FOR i IN 1..100 LOOP EXIT WHEN pg_ha.config()->>'synchronous_mode' = 'quorum'; PERFORM pg_sleep(0.1); END LOOP; END $$;
SELECT pg_ha.config()->>'synchronous_mode' AS mode, pg_ha.config()->>'synchronous_node_count' AS count;
SELECT pg_ha.set_config('{"synchronous_mode": "off", "synchronous_node_count": null}') - 'revision' AS done;
DO $$ BEGIN FOR i IN 1..100 LOOP EXIT WHEN pg_ha.config()->>'synchronous_mode' = 'off'; PERFORM pg_sleep(0.1); END LOOP; END $$;
SELECT pg_ha.config()->>'synchronous_mode' AS mode, pg_ha.config()->>'synchronous_node_count' AS count;
-- control needs the admin role also against a real etcd
SET ROLE regress_pg_ha_admin_login;
SELECT pg_ha.set_config('{"ttl": 20}') - 'revision' AS done;
RESET ROLE;
