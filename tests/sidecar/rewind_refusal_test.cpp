// Which refusals of the rewind source leave a demote or rewind pending (the source is up but full)
// and which fail it (the source is gone): a pending request makes the sidecar stop postgres for it
// again a second later, so a dead source would keep the node from ever taking part in the
// election that replaces it.
#include <gtest/gtest.h>

#include "pg_ops.hpp"

namespace pg_ha::sidecar {
namespace {

TEST(RewindRefusal, AFullSourceIsTriedAgain) {
  EXPECT_TRUE(source_is_full("connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  sorry, too many clients already"));
  EXPECT_TRUE(source_is_full("FATAL:  remaining connection slots are reserved for non-replication superuser connections"));
  EXPECT_TRUE(rewind_could_not_connect(
      "pg_rewind: error: connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  sorry, too many clients already"));
}

TEST(RewindRefusal, ASourceThatIsDownFailsTheRequest) {
  const char* down = "connection to server at \"127.0.0.1\", port 54575 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?";
  EXPECT_FALSE(source_is_full(down));
  EXPECT_FALSE(rewind_could_not_connect(std::string("pg_rewind: error: ") + down));
  EXPECT_FALSE(source_is_full("connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  the database system is shutting down"));
}

}  // namespace
}  // namespace pg_ha::sidecar
