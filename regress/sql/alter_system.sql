-- ALTER SYSTEM writes postgresql.auto.conf, which PostgreSQL reads after every other file: on a
-- node pg_ha manages, a value there would override the parameters pg_ha's worker sets (the
-- primary would stay fenced, a standby would stream from a stale upstream). Refused, with where
-- to change the cluster instead; RESET, which removes an override, is allowed.
ALTER SYSTEM SET synchronous_standby_names = '';
ALTER SYSTEM SET primary_conninfo = 'host=elsewhere';
ALTER SYSTEM SET "PRIMARY_SLOT_NAME" = 'x';
ALTER SYSTEM SET Primary_Slot_Name = 'x';
ALTER SYSTEM RESET synchronous_standby_names;
ALTER SYSTEM SET synchronous_standby_names TO DEFAULT;
ALTER SYSTEM RESET ALL;
-- other parameters are not pg_ha's
ALTER SYSTEM SET work_mem = '8MB';
SELECT name, setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' ORDER BY name;
ALTER SYSTEM RESET work_mem;
SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf';
