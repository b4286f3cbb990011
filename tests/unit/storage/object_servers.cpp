#include "object_servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

namespace berth::storage::testing {
namespace {

const std::string kJs = std::string(BERTH_SOURCE_DIR) + "/tests/e2e/js/";
const std::string kBin = kJs + "node_modules/.bin/";
const char kAzureKey[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

int freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool answers(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// One server process, killed (with its temp directory removed) when the binary exits.
class Server {
 public:
  ~Server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // Starts `argv` (where "{port}" and "{dir}" are filled in; argv[0] found on PATH) once.
  // `needs`: files without which it can not run (the npm packages).
  std::optional<std::string> ensure(const std::string& name, std::vector<std::string> args,
                                    const std::vector<std::string>& needs) {
    std::lock_guard lock(mu_);
    if (tried_) return failure_;
    tried_ = true;
    for (const auto& need : needs) {
      if (::access(need.c_str(), R_OK) != 0) {
        failure_ = need + " is missing: run scripts/install-npm.sh";
        return failure_;
      }
    }
    std::string tmpl = "/tmp/berth-" + name + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return failure_ = "mkdtemp failed";
    dir_ = tmpl;
    // Another test process may take the port between freePort() and the server's bind:
    // then our server exits, and we try another port.
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = freePort();
      std::vector<std::string> argv_text;
      for (const auto& a : args) argv_text.push_back(a == "{port}" ? std::to_string(port_) : a == "{dir}" ? dir_ : a);
      pid_ = ::fork();
      if (pid_ == 0) {
        // Never outlive a crashed test binary. (The signal follows the forking thread: the
        // servers are first asked for from a test body, on gtest's main thread.)
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = ::open("/dev/null", O_WRONLY);
        if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);  // start-up banners; errors stay on stderr
        std::vector<char*> argv;
        for (auto& a : argv_text) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
      }
      for (int i = 0; i < 300 && pid_ > 0; ++i) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;  // exited (the port was taken?): next attempt
          break;
        }
        if (answers(port_)) return std::nullopt;  // our server, alive, answers
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (pid_ > 0) {
        return failure_ = name + " did not answer on port " + std::to_string(port_) + " within 30 s";
      }
    }
    return failure_ = name + " exited before answering (3 tries)";
  }
  int port() const { return port_; }

 private:
  std::mutex mu_;
  bool tried_ = false;
  std::optional<std::string> failure_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

Server& s3Server() {
  static Server server;
  return server;
}
Server& azureServer() {
  static Server server;
  return server;
}

std::string uniqueName(const char* prefix) {
  static std::atomic<int> counter{0};
  return std::string(prefix) + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

}  // namespace

bool serversRequired() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

std::optional<std::string> s3Unavailable() {
  return s3Server().ensure("s3rver",
                           {"node", kJs + "s3rver_sigv4.mjs", "--directory", "{dir}", "--port", "{port}"},
                           {kJs + "node_modules/s3rver", kJs + "node_modules/@smithy/signature-v4"});
}

std::optional<std::string> azureUnavailable() {
  return azureServer().ensure("azurite-blob",
                              {kBin + "azurite-blob", "--blobHost", "127.0.0.1", "--blobPort", "{port}", "--location",
                               "{dir}", "--skipApiVersionCheck", "--silent", "--disableTelemetry"},
                              {kBin + "azurite-blob"});
}

S3Options s3ServerOptions(bool virtual_host) {
  S3Options o;
  // libcurl resolves *.localhost to loopback, and the server takes BUCKET.s3.localhost
  // for the bucket's virtual host.
  o.endpoint = std::string(virtual_host ? "http://s3.localhost:" : "http://127.0.0.1:") +
               std::to_string(s3Server().port());
  o.path_style = !virtual_host;
  o.access_key = "S3RVER";
  o.secret_key = "S3RVER";
  return o;
}

S3Options freshS3Bucket(bool virtual_host) {
  S3Options o = s3ServerOptions(virtual_host);
  o.bucket = uniqueName("berth-test-");
  Status s = S3BlobStore::createBucket(o);
  if (!s) o.bucket += "-create-failed-" + s.error().message;
  return o;
}

AzureOptions azureServerOptions() {
  AzureOptions o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(azureServer().port()) + "/devstoreaccount1";
  o.account = "devstoreaccount1";
  o.key = kAzureKey;
  return o;
}

AzureOptions freshAzureContainer() {
  AzureOptions o = azureServerOptions();
  o.container = uniqueName("berth-test-");
  Status s = AzureBlobStore::createContainer(o);
  if (!s) o.container += "-create-failed";
  return o;
}

}  // namespace berth::storage::testing
