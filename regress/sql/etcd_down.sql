-- etcd is gone (killed) under the leading primary: it fenced (the script timed it); writes are
-- refused, reads go on; control functions fail with a clear error; status still answers.
SELECT standalone, role, fenced FROM pg_ha.node_status();
-- the worker notices within a few seconds and says so
DO $$
BEGIN
  FOR i IN 1..150 LOOP
    EXIT WHEN NOT (SELECT etcd_reachable FROM pg_ha.node_status());
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT etcd_reachable, fenced FROM pg_ha.node_status();
SELECT ok FROM pg_ha.health_primary();
SELECT count(*) FROM regress_lead;
\set VERBOSITY sqlstate
INSERT INTO regress_lead VALUES (99);
\set VERBOSITY default
-- regress_error_head(): SQLSTATE and the stable head of the message (made by run-regress.sh)
SELECT f, regress_error_head(f) FROM (VALUES
  ('pg_ha.switchover()'), ('pg_ha.failover(''n2'')'), ('pg_ha.pause()'), ('pg_ha.resume()'),
  ('pg_ha.set_config(''{"ttl": 30}'')'), ('pg_ha.restart(''n2'')')) AS t(f);
SELECT 1 AS alive;
