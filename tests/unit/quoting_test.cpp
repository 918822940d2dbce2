// The one conf-value and conninfo quoting and the one atomic file writer (common/).
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent/auto_conf.hpp"
#include "common/atomic_file.hpp"
#include "common/quoting.hpp"

using namespace pg_ha;

namespace {

std::string read_back(const std::string& quoted) {
  std::string out;
  EXPECT_EQ(quoting::read_conf_quoted(quoted, 0, &out), quoted.size()) << quoted;
  return out;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST(ConfQuoting, ReadsBackAndStaysOnOneLine) {
  for (std::string v : {std::string(""), std::string("plain"), std::string("a'b"), std::string("back\\slash"),
                        std::string("x'\nlisten_addresses = '*"), std::string("cr\rlf\r\n"), std::string("\\n literally"),
                        std::string("tab\there"), std::string("\xff\xfe bytes"), std::string("''\\''")}) {
    std::string q = quoting::conf_value(v);
    EXPECT_EQ(q.find('\n'), std::string::npos) << q;
    EXPECT_EQ(read_back(q), v);
  }
}

TEST(ConfQuoting, ReadsPostgresEscapes) {
  EXPECT_EQ(read_back("'a\\tb\\101\\''"), "a\tbA'");
  std::string out;
  EXPECT_EQ(quoting::read_conf_quoted("'open", 0, &out), std::string::npos);
  EXPECT_EQ(quoting::read_conf_quoted("'two\nlines'", 0, &out), std::string::npos);
}

TEST(ConfQuoting, DropsNul) { EXPECT_EQ(quoting::conf_value(std::string("a\0b", 3)), "'ab'"); }

TEST(ConninfoQuoting, EscapesQuoteAndBackslash) {
  EXPECT_EQ(quoting::conninfo_value("h'x\\y"), "'h\\'x\\\\y'");
  EXPECT_EQ(quoting::conninfo_value(""), "''");
}

// A hostile host can neither end primary_conninfo's line nor add a conninfo keyword.
TEST(AutoConf, HostileHostStaysInsideItsValue) {
  core::FollowTarget f;
  f.name = "n2";
  f.host = "h' sslmode=disable\ninclude '/tmp/evil.conf";
  f.port = 5432;
  std::string conf = agent::render_auto_conf(f, agent::ReplicationSettings{}, "");
  std::istringstream in(conf);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_NE(line.rfind("include", 0), 0u) << line;
  }
  EXPECT_EQ(lines, 4);   // comment, primary_conninfo, primary_slot_name, synchronous_standby_names
}

class AtomicFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pg_ha_atomic_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

TEST_F(AtomicFile, WritesWithMode) {
  ASSERT_TRUE(files::write_atomically(dir_ + "/f", "hello", files::WriteOptions{0640}).ok());
  EXPECT_EQ(slurp(dir_ + "/f"), "hello");
  struct stat st {};
  ASSERT_EQ(stat((dir_ + "/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_NE(access((dir_ + "/f.tmp").c_str(), F_OK), 0);
}

// A symlink planted at the file's name or at its temp name is replaced, never written through.
TEST_F(AtomicFile, NeverFollowsSymlinks) {
  std::string victim = dir_ + "/victim";
  { std::ofstream(victim) << "precious"; }
  ASSERT_EQ(symlink(victim.c_str(), (dir_ + "/f").c_str()), 0);
  ASSERT_EQ(symlink(victim.c_str(), (dir_ + "/f.tmp").c_str()), 0);
  ASSERT_TRUE(files::write_atomically(dir_ + "/f", "new").ok());
  EXPECT_EQ(slurp(victim), "precious");
  EXPECT_EQ(slurp(dir_ + "/f"), "new");
  struct stat st {};
  ASSERT_EQ(lstat((dir_ + "/f").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(AtomicFile, MissingDirectoryIsAnError) {
  EXPECT_FALSE(files::write_atomically(dir_ + "/no/such/f", "x").ok());
}
