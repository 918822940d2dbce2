// One function per verb; each returns the exit code or throws ctl::Failure (failure.hpp).
#pragma once

#include "args.hpp"

namespace pg_ha::ctl {

// verbs_status.cpp: read-only
int run_list(const Options& o, bool topology);
int run_show_config(const Options& o);
int run_history(const Options& o);

// verbs_control.cpp: requests through the control functions
int run_switchover(const Options& o);
int run_failover(const Options& o);
int run_restart(const Options& o);
int run_pause(const Options& o, bool paused);
int run_reinit(const Options& o);
int run_remove(const Options& o);

// verbs_config.cpp
int run_edit_config(const Options& o);

}  // namespace pg_ha::ctl
