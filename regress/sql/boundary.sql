-- Errors raised inside C++ become ordinary ERRORs; the session and the server keep running.
SELECT pg_ha._test_raise('runtime_error');
SET pg_ha.enable_test_functions = on;
SELECT pg_ha._test_raise('none');
SELECT pg_ha._test_raise('runtime_error');
SELECT pg_ha._test_raise('bad_alloc');
SELECT pg_ha._test_raise('sql_error');
SELECT pg_ha._test_raise('pg_error');
SELECT pg_ha._test_raise('unknown');
SELECT pg_ha._test_raise('no such kind');
SELECT pg_ha._test_raise(NULL);

-- inside a transaction and a savepoint
BEGIN;
SAVEPOINT before_error;
SELECT pg_ha._test_raise('runtime_error');
ROLLBACK TO SAVEPOINT before_error;
SELECT 'still in the transaction' AS ok;
COMMIT;

-- the session, the worker and the status are all still there
SELECT 1 AS alive;
SELECT state, reason FROM pg_ha.node_status();
SELECT standalone FROM pg_ha.node_status();
RESET pg_ha.enable_test_functions;
