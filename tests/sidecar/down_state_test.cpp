// The supervisor's reading of a postmaster exit (sidecar/down_state.hpp): a start that failed is
// told apart from a crash of a serving server, so that a primary whose crash recovery cannot finish
// (a full disk) gives up its lease at once instead of after primary_start_timeout (issue 14).
#include <gtest/gtest.h>

#include "down_state.hpp"

namespace pg_ha::sidecar {
namespace {

// What PostgreSQL 15 logged when a full pg_wal made a backend PANIC, and the postmaster's own
// crash recovery then failed (the shape seen in issue 14, trimmed).
const char* kRecoveryFailed =
    "PANIC:  could not write to file \"pg_wal/xlogtemp.4242\": No space left on device\n"
    "LOG:  server process (PID 4242) was terminated by signal 6: Aborted\n"
    "LOG:  all server processes terminated; reinitializing\n"
    "LOG:  database system was interrupted; last known up at 2026-12-05 14:00:00 UTC\n"
    "LOG:  database system was not properly shut down; automatic recovery in progress\n"
    "FATAL:  could not extend file \"base/5/16384\": No space left on device\n"
    "LOG:  startup process (PID 4243) exited with exit code 1\n"
    "LOG:  aborting startup due to startup process failure\n"
    "LOG:  database system is shut down\n";

TEST(DownState, ExitBeforeServingIsAFailedStart) {
  // E.g. postmaster.pid could not be written on a full disk: it never accepted a connection.
  ExitFacts f{false, "FATAL:  could not write lock file \"postmaster.pid\": No space left on device\n", 1};
  EXPECT_EQ(classify_exit(f), DownKind::StartFailed);
}

TEST(DownState, FailedCrashRecoveryOfAServingServerIsAFailedStart) {
  // It served before the PANIC; its own restart then failed: waiting longer will not help.
  EXPECT_EQ(classify_exit(ExitFacts{true, kRecoveryFailed, 1}), DownKind::StartFailed);
}

TEST(DownState, CrashOfAServingServerIsACrash) {
  EXPECT_EQ(classify_exit(ExitFacts{true, "LOG:  received immediate shutdown request\n", 1}), DownKind::Crashed);
  EXPECT_EQ(classify_exit(ExitFacts{true, "", 2}), DownKind::Crashed);
}

TEST(DownState, RepeatedCrashesAreACrashLoop) {
  EXPECT_EQ(classify_exit(ExitFacts{true, "", kCrashLoopExits}), DownKind::CrashLoop);
  // A failed start stays a failed start, however often: that is what releases the lease.
  EXPECT_EQ(classify_exit(ExitFacts{false, "", kCrashLoopExits + 5}), DownKind::StartFailed);
}

TEST(DownState, Names) {
  EXPECT_STREQ(down_kind_name(DownKind::StartFailed), "start failed");
  EXPECT_STREQ(down_kind_name(DownKind::CrashLoop), "crash loop");
  EXPECT_STREQ(down_kind_name(DownKind::Stopped), "stopped");
  EXPECT_STREQ(down_kind_name(DownKind::Crashed), "crashed");
}

TEST(DownState, OnlyThePostmastersOwnWordsCount) {
  EXPECT_TRUE(log_says_startup_failed(kRecoveryFailed));
  EXPECT_FALSE(log_says_startup_failed("LOG:  database system is ready to accept connections\n"));
}

TEST(DownState, TheReasonIsThePostmastersOwnNotAPingTurnedAway) {
  // As seen in the DiskFull fault test: the sidecar's pings during crash recovery log FATALs first.
  std::string log =
      "2026-12-05 15:26:30.100 GMT [4100] LOG:  database system was not properly shut down; automatic recovery in progress\n"
      "2026-12-05 15:26:30.120 GMT [4101] FATAL:  the database system is starting up\n"
      "2026-12-05 15:26:30.120 GMT [4101] DETAIL:  Consistent recovery state has not been yet reached.\n"
      "2026-12-05 15:26:30.130 GMT [4100] FATAL:  could not write to file \"pg_wal/xlogtemp.4100\": No space left on device\n"
      "2026-12-05 15:26:30.131 GMT [4090] LOG:  startup process (PID 4100) exited with exit code 1\n";
  std::string r = reason_from_log(log);
  EXPECT_NE(r.find("No space left on device"), std::string::npos) << r;
  EXPECT_EQ(r.find("starting up"), std::string::npos) << r;
  EXPECT_EQ(r.find("Consistent recovery"), std::string::npos) << r;
  EXPECT_EQ(r.rfind("LOG:  database system was not properly shut down", 0), 0u) << "the prefix goes: " << r;
  // A bad parameter: the LOG line before the FATAL names it.
  EXPECT_NE(reason_from_log("LOG:  invalid value for parameter \"max_connections\": \"abc\"\n"
                            "FATAL:  configuration file \"/s/pg_ha.parameters.conf\" contains errors\n")
                .find("max_connections"),
            std::string::npos);
  EXPECT_EQ(reason_from_log("LOG:  database system is ready to accept connections\n"), "");
}

}  // namespace
}  // namespace pg_ha::sidecar
