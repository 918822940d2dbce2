#include "harness/process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace pg_ha::test {

namespace {

// In the child, after fork: only async-signal-safe calls until exec. Errors go back through
// err_fd (close-on-exec, so a successful exec closes it with nothing written).
[[noreturn]] void child_exec(const SpawnOptions& o, char** argv, char** envp, int log_fd, int err_fd,
                             uid_t uid, gid_t gid, bool switch_user, const char* user, pid_t parent) {
  auto die = [&](int step) {
    int e = errno;
    int msg[2] = {step, e};
    ssize_t ignored = ::write(err_fd, msg, sizeof(msg));
    (void)ignored;
    ::_exit(127);
  };
  ::setpgid(0, 0);  // own process group: kill() reaches grandchildren too
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  if (::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) die(1);
  if (switch_user) {
    if (::initgroups(user, gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) die(2);
  }
  if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) die(3);
  // After the user switch, which clears the parent-death signal; then close the race with a
  // parent that died before this point.
  if (o.die_with_parent && (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)) ::_exit(126);
  ::execvpe(argv[0], argv, envp);
  die(4);
  ::_exit(127);  // not reached: die() exits
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

ChildProcess ChildProcess::spawn(const SpawnOptions& o) {
  if (o.argv.empty()) throw std::runtime_error("spawn: empty argv");
  std::vector<std::string> args = o.argv;
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  env.insert(env.end(), o.env.begin(), o.env.end());
  std::vector<char*> argv = c_strings(args);
  std::vector<char*> envp = c_strings(env);

  bool switch_user = !o.run_as_user.empty() && ::geteuid() == 0;
  uid_t uid = 0;
  gid_t gid = 0;
  if (switch_user) {
    struct passwd* pw = ::getpwnam(o.run_as_user.c_str());
    if (!pw) throw std::runtime_error("spawn: no such user " + o.run_as_user);
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  std::string log = o.log_path.empty() ? "/dev/null" : o.log_path;
  int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("spawn: cannot open log " + log + ": " + std::strerror(errno));
  if (switch_user && ::fchown(log_fd, uid, gid) != 0) { /* best effort: root owns it then */ }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::close(log_fd);
    throw std::runtime_error(std::string("spawn: pipe: ") + std::strerror(errno));
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw std::runtime_error(std::string("spawn: fork: ") + std::strerror(errno));
  }
  if (pid == 0) child_exec(o, argv.data(), envp.data(), log_fd, pipe_fds[1], uid, gid, switch_user, o.run_as_user.c_str(), parent);
  ::setpgid(pid, pid);  // also from the parent: no race with an early kill(-pid)
  ::close(log_fd);
  ::close(pipe_fds[1]);
  int msg[2] = {0, 0};
  ssize_t n = ::read(pipe_fds[0], msg, sizeof(msg));
  ::close(pipe_fds[0]);
  ChildProcess child;
  child.pid_ = pid;
  if (n == sizeof(msg)) {
    child.wait(5000);
    static const char* steps[] = {"", "redirect output", "switch user", "chdir", "exec"};
    throw std::runtime_error("spawn " + o.argv[0] + ": " + (msg[0] >= 1 && msg[0] <= 4 ? steps[msg[0]] : "exec") + ": " + std::strerror(msg[1]));
  }
  return child;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    wait(10000);
  }
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    ChildProcess dying(std::move(*this));  // kills what we held
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

bool ChildProcess::running() {
  if (pid_ <= 0 || status_) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) status_ = st;
  return !status_;
}

void ChildProcess::signal(int sig) {
  if (pid_ <= 0 || status_) return;
  ::kill(-pid_, sig);
  ::kill(pid_, sig);
}

std::optional<int> ChildProcess::wait(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status_;
}

int ChildProcess::stop(int grace_ms) {
  signal(SIGTERM);
  if (auto st = wait(grace_ms)) return *st;
  signal(SIGKILL);
  auto st = wait(10000);
  return st ? *st : -1;
}

int run_command(const SpawnOptions& options, int timeout_ms) {
  ChildProcess child = ChildProcess::spawn(options);
  auto st = child.wait(timeout_ms);
  if (!st) return -1;  // the destructor kills it
  return WIFEXITED(*st) ? WEXITSTATUS(*st) : 128 + WTERMSIG(*st);
}

std::string tail_file(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max_bytes ? s.substr(s.size() - max_bytes) : s;
}

}  // namespace pg_ha::test
