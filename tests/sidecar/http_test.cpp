// The sidecar's HTTP server against hostile requests (issue 13, item 3), on a real pg_ha_sidecar
// process (ctest label: sidecar; root, like the other sidecar suites). The node bootstraps in the
// background while the requests arrive: the HTTP server is up from the start.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "support.hpp"

using namespace pg_ha::sidecar_test;

namespace {

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Sends `head`, then `body_bytes` of 'x' (stopping when the server closes), and returns what the
// server answered (first 4 KiB) within a few seconds.
std::string exchange(int port, const std::string& head, size_t body_bytes = 0) {
  int fd = connect_to(port);
  if (fd < 0) return "";
  send(fd, head.data(), head.size(), MSG_NOSIGNAL);
  std::string chunk(1 << 16, 'x');
  for (size_t sent = 0; sent < body_bytes;) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 3000) <= 0) break;   // the server stopped reading: fine
    ssize_t n = send(fd, chunk.data(), std::min(chunk.size(), body_bytes - sent), MSG_NOSIGNAL);
    if (n <= 0) break;                   // the server closed: fine
    sent += static_cast<size_t>(n);
  }
  std::string out;
  char buf[4096];
  pollfd p{fd, POLLIN, 0};
  while (out.size() < 4096 && poll(&p, 1, 3000) > 0) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

size_t open_fds(pid_t pid) {
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) (void)e, ++n;
  return n;
}

class SidecarHttp : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!running_as_root()) return;
    base_ = make_temp_dir();
    etcd_ = std::make_unique<Etcd>(base_);
    std::string passfile = base_ + "/replication.pgpass";
    write_file(passfile, std::string("*:*:*:replicator:") + kReplicationPassword + "\n");
    chown_postgres(passfile);
    chmod(passfile.c_str(), 0600);
    node_ = std::make_unique<SidecarNode>(NodeSpec{"h1", base_ + "/h1", free_port(), free_port(), ""}, "http",
                                          etcd_->endpoint(), passfile);
    node_->start();
    wait_until([] { return node_->http_get("/liveness") == 200; }, 15000);
  }
  static void TearDownTestSuite() {
    node_.reset();
    etcd_.reset();
    if (!base_.empty()) {
      kill_postmasters_under(base_);
      std::filesystem::remove_all(base_);
    }
  }
  void SetUp() override {
    if (!running_as_root()) GTEST_SKIP() << "needs root (runs postgres as the postgres user)";
    ASSERT_TRUE(node_->sidecar_alive()) << read_file(node_->log_file());
    ASSERT_EQ(node_->http_get("/liveness"), 200) << read_file(node_->log_file());
  }
  void expect_alive_and_small() {
    EXPECT_TRUE(node_->sidecar_alive()) << read_file(node_->log_file());
    EXPECT_EQ(node_->http_get("/liveness"), 200);
    long rss = rss_kib(node_->process()->pid());
    EXPECT_GT(rss, 0);
    EXPECT_LT(rss, 40 * 1024) << "sidecar RSS " << rss << " KiB";
  }
  int port() const { return node_->spec().http_port; }

  static inline std::string base_;
  static inline std::unique_ptr<Etcd> etcd_;
  static inline std::unique_ptr<SidecarNode> node_;
};

TEST_F(SidecarHttp, InvalidUtf8PathIsAnsweredSafely) {
  std::string reply = exchange(port(), "GET /%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 404", 0), 0u) << reply;
  EXPECT_NE(reply.find("no such endpoint"), std::string::npos) << reply;
  reply = exchange(port(), "GET /replica?lag=%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  expect_alive_and_small();
}

TEST_F(SidecarHttp, HugeBodiesAreNeverBuffered) {
  const size_t k64MiB = size_t{64} << 20;
  std::string reply = exchange(port(), "POST /primary HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(k64MiB) +
                                           "\r\n\r\n", k64MiB);
  EXPECT_EQ(reply.rfind("HTTP/1.1 405", 0), 0u) << reply.substr(0, 200);
  exchange(port(), "POST /nowhere HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4000000\r\n", k64MiB);
  exchange(port(), "GET /primary HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(k64MiB) + "\r\n\r\n", k64MiB);
  expect_alive_and_small();
}

TEST_F(SidecarHttp, OversizedHeadersAndGarbageAreRefused) {
  std::string reply = exchange(port(), "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(reply.rfind("HTTP/1.1 4", 0), 0u) << reply.substr(0, 200);
  exchange(port(), "GET /liveness HTTP/1.1\r\nX-Big: " + std::string(1 << 20, 'h') + "\r\n\r\n");
  exchange(port(), std::string("\xff\xfe\x00garbage\r\n\r\n", 14));
  expect_alive_and_small();
}

// Idle connections hold neither a thread nor more than a bounded number of descriptors, and a
// health check made while they are open is answered.
TEST_F(SidecarHttp, ManyIdleConnectionsStayBoundedAndChecksStillAnswer) {
  pid_t pid = node_->process()->pid();
  size_t before = open_fds(pid);
  std::vector<int> fds;
  for (int i = 0; i < 300; ++i) {
    int fd = connect_to(port());
    if (fd >= 0) fds.push_back(fd);
  }
  usleep(300 * 1000);
  EXPECT_LT(open_fds(pid), before + 100) << "held connections: " << fds.size();
  int64_t t0 = now_ms();
  EXPECT_EQ(node_->http_get("/liveness"), 200);
  EXPECT_LT(now_ms() - t0, 1500) << "a check waited behind idle connections";
  for (int fd : fds) close(fd);
  expect_alive_and_small();
}

// A host that would inject a postgresql.conf line is refused before anything is written.
TEST_F(SidecarHttp, HostileConnectHostIsRefusedAtStart) {
  std::string log = base_ + "/hostile.log";
  Child c({PG_HA_SIDECAR_BIN, "--config", node_->config_file(), "--name", "h2", "--state-dir", base_ + "/h2state",
           "--connect-host", "h'\ninclude '/tmp/evil.conf"},
          log);
  ASSERT_TRUE(c.wait_exit(10000));
  EXPECT_EQ(c.exit_code(), 2);
  EXPECT_NE(read_file(log).find("connect_host"), std::string::npos) << read_file(log);
  EXPECT_FALSE(std::filesystem::exists(base_ + "/h2state"));
}

}  // namespace
