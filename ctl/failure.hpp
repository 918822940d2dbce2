// How pg_hactl ends: its exit codes, and the one exception that carries a failure from wherever
// it is found up to main(), which prints it on stderr and exits with its code.
#pragma once

#include <stdexcept>
#include <string>

namespace pg_ha::ctl {

enum ExitCode : int {
  kExitOk = 0,
  kExitRefused = 1,       // the cluster (or the operator at a prompt) refused: nothing changed
  kExitUsage = 2,         // bad command line or input file
  kExitUnreachable = 3,   // could not connect to a node, or lost the connection
};

class Failure : public std::runtime_error {
 public:
  Failure(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

}  // namespace pg_ha::ctl
