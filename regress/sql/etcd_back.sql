-- etcd is back: the same primary unfences in the same term and on the same timeline (no
-- promotion, no restart), and writes again.
SELECT regress_wait_fenced(false) AS unfenced;
SELECT regress_wait_for($$(SELECT etcd_reachable AND state = 'primary' FROM pg_ha.node_status())$$)
       AS status_caught_up;
SELECT role, timeline, fenced, etcd_reachable FROM pg_ha.node_status();
SELECT leader, term FROM pg_ha.cluster();
SELECT count(*) AS history_rows FROM pg_ha.history();
INSERT INTO regress_lead VALUES (2);
SELECT count(*) FROM regress_lead;
