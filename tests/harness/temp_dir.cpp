#include "harness/temp_dir.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace pg_ha::test {

namespace fs = std::filesystem;

TempDir::TempDir(const std::string& label) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/pg_ha_" + label + ".XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  path_ = buf.data();
  // Services running as another user (postgres) must be able to traverse into it.
  fs::permissions(path_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
}

TempDir::~TempDir() {
  const char* keep = std::getenv("PG_HA_KEEP_TEST_DIRS");
  if (keep && std::string(keep) == "1") {
    std::cerr << "[harness] kept " << path_ << "\n";
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::make_sub(const std::string& name) const {
  std::string p = sub(name);
  fs::create_directories(p);
  return p;
}

void TempDir::chown_to(const std::string& user) const {
  struct passwd* pw = ::getpwnam(user.c_str());
  if (!pw) throw std::runtime_error("no such user " + user);
  for (const auto& entry : fs::recursive_directory_iterator(path_)) {
    if (::lchown(entry.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      throw std::runtime_error("chown " + entry.path().string() + ": " + std::strerror(errno));
    }
  }
  if (::chown(path_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown " + path_ + ": " + std::strerror(errno));
}

void write_file(const std::string& path, const std::string& content, int mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << content;
  }
  fs::permissions(path, static_cast<fs::perms>(mode));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace pg_ha::test
