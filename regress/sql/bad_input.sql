-- Names and JSON from users are validated before anything else happens.
SELECT pg_ha.switchover('no/such name');
SELECT pg_ha.switchover('');
SELECT pg_ha.failover(NULL);
SELECT pg_ha.failover('regress2', NULL);
SELECT pg_ha.failover('bad name!');
SELECT pg_ha.restart(NULL);
SELECT pg_ha.restart('x/../y');
SELECT pg_ha.reinit(NULL);
SELECT pg_ha.remove('x/../y');
SELECT pg_ha.set_config(NULL);
SELECT pg_ha.set_config('[1, 2]');
SELECT pg_ha.set_config('"ttl"');
SELECT pg_ha.set_config('{"no_such_knob": 1}');
SELECT pg_ha.set_config('{"ttl": "ten"}');
SELECT pg_ha.set_config('{bad json');
SELECT * FROM pg_ha.health_replica(-1);
-- wrong types and arities
SELECT pg_ha.switchover(42);
SELECT pg_ha.failover('regress2', 'maybe');
SELECT pg_ha.set_config(42);
SELECT pg_ha.restart();
-- a valid but unknown node name: standalone refuses before looking it up
SELECT pg_ha.switchover('nosuchnode');
