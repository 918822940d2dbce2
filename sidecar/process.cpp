#include "process.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/no_postgres.hpp"

namespace pg_ha::sidecar {
namespace {

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_reload = 0;

void on_stop_signal(int) { g_stop = 1; }
void on_wake_signal(int) {}   // SIGCHLD: only interrupt the current nap
void on_reload_signal(int) { g_reload = 1; }

std::string errno_text() { return std::strerror(errno); }

// In the child, between fork and exec: only async-signal-safe calls.
// Everything is prepared before fork: the sidecar has threads (HTTP), so the child must not
// allocate or look up users (a lock held by another thread at fork time would never be released).
struct ChildPlan {
  std::vector<char*> args;
  std::vector<char*> envp;
  const RunAs* run_as = nullptr;
  bool die_with_parent = true;
  pid_t parent = 0;
};

// Signals stay blocked from before the fork (spawn) until the sidecar's handlers are reset here:
// a signal sent to the child meanwhile waits, and then acts as it would on the program (a stop
// right after a start ends the child), instead of running the sidecar's inherited handler and
// being lost.
[[noreturn]] void exec_child(const ChildPlan& plan, int out_fd, int in_fd) {
  signal(SIGPIPE, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  setsid();   // its own session: a terminal's Ctrl-C reaches only the sidecar, which stops it cleanly
  if (in_fd >= 0) dup2(in_fd, 0);
  if (out_fd >= 0) {
    dup2(out_fd, 1);
    dup2(out_fd, 2);
  }
  for (int fd = 3; fd < 1024; ++fd) close(fd);
  const RunAs& r = *plan.run_as;
  if (plan.die_with_parent && (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != plan.parent)) _exit(125);
  if (!r.home.empty() && chdir(r.home.c_str()) != 0 && chdir("/") != 0) _exit(126);
  execve(plan.args[0], plan.args.data(), plan.envp.data());
  _exit(127);
}

std::string tail_of_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start = size > static_cast<std::streamoff>(max_bytes) ? size - static_cast<std::streamoff>(max_bytes) : 0;
  in.seekg(start);
  std::string out(static_cast<size_t>(size - start), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

}  // namespace

bool stop_requested() { return g_stop != 0; }

bool take_reload_request() {
  if (!g_reload) return false;
  g_reload = 0;
  return true;
}

void install_signal_handlers() {
  struct sigaction sa {};
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_stop_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sa.sa_handler = on_wake_signal;
  sigaction(SIGCHLD, &sa, nullptr);
  sa.sa_handler = on_reload_signal;
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);   // a health-check client hanging up must not kill us
}

void nap_ms(int ms) {
  if (g_stop) return;
  timespec ts{ms / 1000, static_cast<long>(ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);   // EINTR on a signal: the caller re-checks its state at once
}

int64_t monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int64_t unix_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Result<RunAs> resolve_run_as(const std::string& os_user) {
  passwd* pw = getpwnam(os_user.c_str());
  if (!pw) return make_error(ErrorKind::Invalid, "OS user `" + os_user + "` does not exist (key os_user)");
  RunAs r;
  r.user = os_user;
  r.uid = pw->pw_uid;
  r.gid = pw->pw_gid;
  r.home = pw->pw_dir ? pw->pw_dir : "/";
  // Root would write into directories that os_user owns (and any database superuser can run
  // programs as os_user): one planted symlink would turn that into root's writes anywhere.
  if (geteuid() == 0) {
    return make_error(ErrorKind::Invalid, "pg_ha_sidecar must not run as root: start it as os_user `" + os_user +
                                              "` (e.g. runuser -u " + os_user + " -- pg_ha_sidecar ...)");
  }
  if (geteuid() != r.uid) {
    return make_error(ErrorKind::Invalid, "the sidecar runs as uid " + std::to_string(geteuid()) + ", not as os_user `" +
                                              os_user + "` (uid " + std::to_string(r.uid) + "): start it as that user");
  }
  return r;
}

Result<pid_t> spawn(const std::vector<std::string>& argv, const SpawnOptions& o) {
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"};
  if (!o.run_as.home.empty()) env.push_back("HOME=" + o.run_as.home);
  if (!o.run_as.user.empty()) env.push_back("USER=" + o.run_as.user);
  for (const auto& [k, v] : o.env) env.push_back(k + "=" + v);
  int out_fd = -1, in_fd = -1;
  if (!o.output_file.empty()) {
    out_fd = open(o.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (out_fd < 0) return make_error(ErrorKind::Internal, "cannot open " + o.output_file + ": " + errno_text());
  }
  in_fd = open(o.stdin_file.empty() ? "/dev/null" : o.stdin_file.c_str(), O_RDONLY | O_CLOEXEC);
  ChildPlan plan;
  plan.run_as = &o.run_as;
  plan.die_with_parent = o.die_with_parent;
  plan.parent = getpid();
  for (const auto& a : argv) plan.args.push_back(const_cast<char*>(a.c_str()));
  plan.args.push_back(nullptr);
  for (const auto& e : env) plan.envp.push_back(const_cast<char*>(e.c_str()));
  plan.envp.push_back(nullptr);
  sigset_t all, old_mask;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old_mask);   // until the child has reset its handlers
  pid_t pid = fork();
  if (pid == 0) exec_child(plan, out_fd, in_fd);
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (pid < 0) {
    if (out_fd >= 0) close(out_fd);
    if (in_fd >= 0) close(in_fd);
    errno = fork_errno;
    return make_error(ErrorKind::Internal, "fork failed: " + errno_text());
  }
  if (out_fd >= 0) close(out_fd);
  if (in_fd >= 0) close(in_fd);
  return pid;
}

bool pid_is_zombie(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');   // the command name may hold spaces and parentheses
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

bool pid_alive(pid_t pid) {
  if (kill(pid, 0) != 0) return errno == EPERM;
  // A zombie nobody reaps (pid 1 in some containers) has exited all the same.
  return !pid_is_zombie(pid);
}

bool reap(pid_t pid, int* status) {
  int st = 0;
  pid_t r = waitpid(pid, &st, WNOHANG);
  if (r == pid) {
    *status = st;
    return true;
  }
  if (r < 0 && errno == ECHILD) {   // not our child (adopted) or already reaped
    *status = 0;
    return !pid_alive(pid);
  }
  return false;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::string join_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a.find_first_of(" '\"") == std::string::npos ? a : "'" + a + "'";
  }
  return out;
}

Result<CommandResult> run_command(const std::vector<std::string>& argv, SpawnOptions options, int64_t timeout_ms) {
  // The output goes to the caller's file (kept for the operator: the last tool's full output) or
  // to a temporary file removed afterwards.
  bool temporary = options.output_file.empty();
  if (temporary) {
    char tmpl[] = "/tmp/pg_ha_sidecar_cmdXXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) return make_error(ErrorKind::Internal, "mkstemp failed: " + errno_text());
    close(fd);
    options.output_file = tmpl;
  } else if (truncate(options.output_file.c_str(), 0) != 0 && errno != ENOENT) {
    return make_error(ErrorKind::Internal, "cannot truncate " + options.output_file + ": " + errno_text());
  }
  std::string out_path = options.output_file;
  auto pid = spawn(argv, options);
  if (!pid) {
    if (temporary) unlink(out_path.c_str());
    return pid.error();
  }
  int64_t deadline = monotonic_ms() + timeout_ms;
  int status = 0;
  bool killed = false;
  while (!reap(*pid, &status)) {
    if (!killed && (stop_requested() || monotonic_ms() > deadline)) {
      kill(*pid, SIGTERM);
      killed = true;
    }
    struct timespec ts{0, 20 * 1000000L};
    nanosleep(&ts, nullptr);
  }
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.output = tail_of_file(out_path, 16384);
  if (temporary) unlink(out_path.c_str());
  if (killed) {
    return make_error(stop_requested() ? ErrorKind::Interrupted : ErrorKind::Timeout,
                      argv[0] + (stop_requested() ? " was stopped by a shutdown request" : " timed out"));
  }
  return r;
}

Status ensure_dir(const std::string& path, const RunAs& run_as, mode_t mode) {
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return make_error(ErrorKind::Invalid, path + " exists and is not a directory");
    return ok_status();
  }
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string parent = path.substr(0, slash);
    if (!path_exists(parent)) {
      Status p = ensure_dir(parent, run_as, 0755);
      if (!p) return p;
    }
  }
  if (mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    return make_error(ErrorKind::Internal, "cannot create directory " + path + ": " + errno_text());
  chmod(path.c_str(), mode);
  return ok_status();
}

Result<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::NotFound, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

}  // namespace pg_ha::sidecar
