// Starting a child and signalling it at once (ctest label: unit).
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "process.hpp"

using namespace pg_ha::sidecar;

namespace {

// Waits up to `ms` for the child to end; false if it still runs (then it is killed).
bool ends_within(pid_t pid, int ms) {
  for (int waited = 0; waited < ms; waited += 5) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return true;
    struct timespec ts{0, 5 * 1000000L};
    nanosleep(&ts, nullptr);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return false;
}

// The sidecar stops postgres with SIGINT, and a stop can come right after a start (a restart
// request, then SIGTERM to the sidecar). A signal that reached the child between fork and exec
// ran the sidecar's own handler, inherited over fork, and was lost: postgres started, and the
// sidecar waited for a stop that never came (seen in CI: Cluster.RemoveClearsAStoppedMember...).
TEST(Spawn, ASignalSentRightAfterTheStartIsNeverLost) {
  install_signal_handlers();   // as in the sidecar: SIGINT and SIGTERM set its stop flag
  int lost = 0;
  for (int i = 0; i < 200 && lost < 3; ++i) {
    SpawnOptions o;
    o.die_with_parent = true;
    auto pid = spawn({"/bin/sleep", "30"}, o);
    ASSERT_TRUE(pid.ok()) << pid.error().message;
    kill(*pid, i % 2 ? SIGINT : SIGTERM);
    if (!ends_within(*pid, 2000)) ++lost;
  }
  EXPECT_EQ(lost, 0) << lost << " children survived a signal sent right after their start";
  EXPECT_FALSE(stop_requested()) << "the children's signals reached the parent";
}

}  // namespace
