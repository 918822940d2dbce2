#include "os_users.hpp"

#include <pwd.h>

#include <stdexcept>

#include "harness/process.hpp"

namespace pg_ha::test {

void ensure_os_users(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (getpwnam(name.c_str())) continue;
    int rc = run_command({{"useradd", "--system", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin",
                           "--comment", "pg_ha fault tests", name}, "", "", {}, ""});
    // Another run may have created it meanwhile: only a user that still does not exist is an error.
    if (rc != 0 && !getpwnam(name.c_str())) throw std::runtime_error("useradd " + name + " failed (exit " + std::to_string(rc) + ")");
  }
}

}  // namespace pg_ha::test
