// The node driver: the same contract the real worker follows (lease, view, step, execute).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "clock.hpp"
#include "fake_etcd.hpp"

namespace pg_ha::sim {

struct World;

void worker_start(World& w, int n);   // the postmaster started its background worker
void worker_stop(World& w, int n);    // the postmaster is gone, and the worker with it
void worker_tick(World& w, int n);
void schedule_tick(World& w, int n, TimeMs real_ms);
void on_watch_events(World& w, int n, uint64_t incarnation, uint64_t gen, const std::vector<KvEvent>& events);
void on_watch_broken(World& w, int n, uint64_t incarnation, uint64_t gen);
// Runs fn at node n now, or when its stalled worker resumes.
void at_worker(World& w, int n, uint64_t incarnation, std::function<void()> fn);

}  // namespace pg_ha::sim
