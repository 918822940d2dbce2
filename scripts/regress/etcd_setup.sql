-- What phase_etcd (etcd.sh) needs, made while the server still runs standalone.
CREATE ROLE regress_pg_ha_admin_login LOGIN IN ROLE pgha_admin;
GRANT ALTER SYSTEM ON PARAMETER wal_sender_timeout TO regress_pg_ha_admin_login;
CREATE ROLE regress_pg_ha_plain LOGIN;
CREATE TABLE regress_lead (id int);
GRANT SELECT ON regress_lead TO regress_pg_ha_plain;
CREATE FUNCTION regress_error_head(call text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'SELECT ' || call;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN  -- the SQLSTATE and the message up to its second colon
  RETURN SQLSTATE || ' ' || split_part(SQLERRM, ':', 1) || ':' || split_part(SQLERRM, ':', 2);
END $$;
CREATE FUNCTION regress_wait_fenced(want boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..300 LOOP
    IF (SELECT fenced FROM pg_ha.node_status()) = want THEN RETURN true; END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN false;
END $$;
CREATE FUNCTION regress_wait_for(condition text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE ok boolean;
BEGIN
  FOR i IN 1..300 LOOP
    EXECUTE 'SELECT ' || condition INTO ok;
    IF ok THEN RETURN true; END IF;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN false;
END $$;
