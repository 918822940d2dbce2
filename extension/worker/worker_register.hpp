// Registers pg_ha's one static background worker (called from _PG_init).
#pragma once

namespace pg_ha::worker {

void register_worker();

}  // namespace pg_ha::worker
