// A private directory for one test's data and logs, removed on destruction unless the
// environment sets PG_HA_KEEP_TEST_DIRS=1 (then its path is printed for post-mortems).
#pragma once

#include <string>

namespace pg_ha::test {

class TempDir {
 public:
  explicit TempDir(const std::string& label = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }
  // Makes path/name (and parents); returns its path.
  std::string make_sub(const std::string& name) const;
  // Hands the tree to a user (e.g. "postgres", which must own its data directory).
  void chown_to(const std::string& user) const;

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& content, int mode = 0644);
std::string read_file(const std::string& path);

}  // namespace pg_ha::test
