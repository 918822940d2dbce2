#include "harness/test_ca.hpp"

#include <filesystem>
#include <stdexcept>
#include <vector>

#include "harness/process.hpp"
#include "harness/temp_dir.hpp"

namespace pg_ha::test {

namespace {

void openssl(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  SpawnOptions o;
  o.argv = args;
  o.cwd = dir;
  o.log_path = dir + "/openssl.log";
  if (run_command(o, 30000) != 0) throw std::runtime_error("openssl failed in " + dir + ":\n" + tail_file(o.log_path));
}

// One key and certificate signed by the CA in dir; ec keys keep generation fast.
void issue(const std::string& dir, const std::string& name, const std::string& cn, const std::string& ext) {
  openssl(dir, {"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn});
  write_file(dir + "/" + name + ".ext", ext);
  openssl(dir, {"x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext"});
}

}  // namespace

TestCa TestCa::create(const std::string& parent, const std::string& name) {
  std::string dir = parent + "/" + name;
  std::filesystem::create_directories(dir);
  openssl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=pg_ha test CA " + name});
  issue(dir, "server", "127.0.0.1",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
  issue(dir, "client", "root", "extendedKeyUsage=clientAuth\n");
  TestCa ca;
  ca.ca_cert = dir + "/ca.crt";
  ca.server_cert = dir + "/server.crt";
  ca.server_key = dir + "/server.key";
  ca.client_cert = dir + "/client.crt";
  ca.client_key = dir + "/client.key";
  return ca;
}

}  // namespace pg_ha::test
