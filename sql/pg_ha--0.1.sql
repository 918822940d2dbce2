-- pg_ha 0.1: the SQL API (docs/sql-api.md). Status functions read the snapshot the pg_ha worker
-- publishes in shared memory; control functions validate against etcd and write one transaction.
\echo Use "CREATE EXTENSION pg_ha" to load this file. \quit

-- Schema names starting with pg_ are reserved; a superuser may create one with
-- allow_system_table_mods (reset at once, and by CREATE EXTENSION when the script ends). The
-- schema belongs to the extension: DROP EXTENSION removes it.
SET allow_system_table_mods = on;
CREATE SCHEMA pg_ha;
RESET allow_system_table_mods;

-- The role allowed to control the cluster (and still admitted while a node is fenced). Role names
-- starting with pg_ are reserved with no way around it, hence pgha_admin, not pg_ha_admin. It is
-- cluster-wide and outlives DROP EXTENSION.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgha_admin') THEN
    CREATE ROLE pgha_admin NOLOGIN;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA pg_ha TO PUBLIC;   -- functions carry their own grants

-- ---------------------------------------------------------------- status (pg_monitor)

CREATE FUNCTION pg_ha.node_status(
  OUT name text, OUT role text, OUT state text, OUT timeline bigint,
  OUT flush_lsn pg_lsn, OUT replay_lsn pg_lsn, OUT lag_bytes bigint,
  OUT fenced boolean, OUT fence_reason text, OUT etcd_reachable boolean,
  OUT standalone boolean, OUT last_decision text, OUT reason text)
RETURNS record AS 'MODULE_PATHNAME', 'pg_ha_node_status' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.node_status() IS 'this node: role, state, position, fence and etcd status';

CREATE FUNCTION pg_ha.members(
  OUT name text, OUT role text, OUT state text, OUT timeline bigint, OUT lag_bytes bigint,
  OUT tags jsonb, OUT host text, OUT port integer, OUT api_url text, OUT pending_restart boolean,
  OUT sync boolean, OUT reason text)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'pg_ha_members' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.members() IS 'all members of the cluster, like patronictl list';

CREATE FUNCTION pg_ha.cluster(
  OUT leader text, OUT term bigint, OUT paused boolean, OUT sync_standbys text[], OUT config jsonb)
RETURNS record AS 'MODULE_PATHNAME', 'pg_ha_cluster' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.cluster() IS 'the cluster: leader, term, pause, synchronous standbys, config';

CREATE FUNCTION pg_ha.history(
  OUT term bigint, OUT reason text, OUT old_primary text, OUT new_primary text,
  OUT timeline bigint, OUT lsn pg_lsn, OUT at timestamptz)
RETURNS SETOF record AS 'MODULE_PATHNAME', 'pg_ha_history' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.history() IS 'failovers and switchovers, oldest first';

CREATE FUNCTION pg_ha.health_primary(OUT ok boolean, OUT reason jsonb)
RETURNS record AS 'MODULE_PATHNAME', 'pg_ha_health_primary' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.health_primary() IS 'true on an unfenced primary (load balancer check)';

CREATE FUNCTION pg_ha.health_replica(max_lag_bytes bigint DEFAULT NULL, OUT ok boolean, OUT reason jsonb)
RETURNS record AS 'MODULE_PATHNAME', 'pg_ha_health_replica' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.health_replica(bigint) IS 'true on a streaming replica within max_lag_bytes';

CREATE FUNCTION pg_ha.config() RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_ha_config' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.config() IS 'the dynamic cluster configuration';

-- ---------------------------------------------------------------- control (pgha_admin)

CREATE FUNCTION pg_ha.switchover(candidate text DEFAULT NULL) RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_ha_switchover' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.switchover(text) IS 'planned switchover to candidate (NULL: the best replica)';

CREATE FUNCTION pg_ha.failover(candidate text, force boolean DEFAULT false) RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_ha_failover' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.failover(text, boolean) IS 'manual failover to candidate, also without a live primary';

CREATE FUNCTION pg_ha.pause() RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_ha_pause' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.pause() IS 'maintenance mode: no automatic failover';

CREATE FUNCTION pg_ha.resume() RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_ha_resume' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.resume() IS 'leave maintenance mode';

CREATE FUNCTION pg_ha.set_config(patch jsonb) RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_ha_set_config' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.set_config(jsonb) IS 'merge a JSON patch into the dynamic config (null removes a key)';

CREATE FUNCTION pg_ha.restart(node text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_ha_restart' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.restart(text) IS 'ask the node''s sidecar to restart its PostgreSQL';

CREATE FUNCTION pg_ha.reinit(node text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_ha_reinit' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.reinit(text) IS 'ask a replica''s sidecar to re-clone it from the primary (old data kept aside)';

CREATE FUNCTION pg_ha.remove(node text) RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_ha_remove' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION pg_ha.remove(text) IS 'delete what etcd still holds of a stopped member';

-- ---------------------------------------------------------------- tests only

-- Raises an error of the given kind from inside C++ (needs pg_ha.enable_test_functions = on):
-- proves that the C++/PostgreSQL boundary turns every failure into an ordinary ERROR.
CREATE FUNCTION pg_ha._test_raise(kind text) RETURNS void
AS 'MODULE_PATHNAME', 'pg_ha_test_raise' LANGUAGE C VOLATILE;

-- While hold is true, writing commits of sessions with pg_ha.enable_test_functions = on wait after
-- the pre-commit fence check (an injection point for the COMMIT-time check); returns how many
-- are held now.
CREATE FUNCTION pg_ha._test_hold_commits(hold boolean) RETURNS integer
AS 'MODULE_PATHNAME', 'pg_ha_test_hold_commits' LANGUAGE C VOLATILE;

-- ---------------------------------------------------------------- privileges

REVOKE ALL ON FUNCTION
  pg_ha.node_status(), pg_ha.members(), pg_ha.cluster(), pg_ha.history(),
  pg_ha.health_primary(), pg_ha.health_replica(bigint), pg_ha.config(),
  pg_ha.switchover(text), pg_ha.failover(text, boolean), pg_ha.pause(), pg_ha.resume(),
  pg_ha.set_config(jsonb), pg_ha.restart(text), pg_ha.reinit(text), pg_ha.remove(text),
  pg_ha._test_raise(text), pg_ha._test_hold_commits(boolean)
FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
  pg_ha.node_status(), pg_ha.members(), pg_ha.cluster(), pg_ha.history(),
  pg_ha.health_primary(), pg_ha.health_replica(bigint), pg_ha.config()
TO pg_monitor, pgha_admin;

GRANT EXECUTE ON FUNCTION
  pg_ha.switchover(text), pg_ha.failover(text, boolean), pg_ha.pause(), pg_ha.resume(),
  pg_ha.set_config(jsonb), pg_ha.restart(text), pg_ha.reinit(text), pg_ha.remove(text)
TO pgha_admin;
