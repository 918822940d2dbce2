// Included last by every source file that must stay free of PostgreSQL (core, etcd client,
// sidecar). Those targets also get no server include path, so this is a second, explicit proof.
#pragma once
#ifdef POSTGRES_H
#error "postgres.h reached pure pg_ha code: only extension/pg, worker and sql_api may include it"
#endif
