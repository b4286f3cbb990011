#include "pg_test_server.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "meta/postgres/pg_meta_store.h"

namespace berth::meta::testing {
namespace {

namespace fs = std::filesystem;

// The newest installed server (Debian: /usr/lib/postgresql/<major>/bin), or BERTH_PG_BIN.
std::string findBin() {
  if (const char* env = std::getenv("BERTH_PG_BIN"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  std::string best;
  int best_major = -1;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb", ec) || !fs::exists(bin / "pg_ctl", ec)) continue;
    const int major = std::atoi(entry.path().filename().c_str());
    if (major > best_major) {
      best_major = major;
      best = bin.string();
    }
  }
  return best;
}

// initdb refuses root: as root, the server runs as the postgres user.
std::string asServerUser() { return ::geteuid() == 0 ? "runuser -u postgres -- " : ""; }

bool exec(PGconn* conn, const std::string& sql) {
  PGresult* res = PQexec(conn, sql.c_str());
  const bool ok = res != nullptr && PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  return ok;
}

std::mutex g_mutex;
std::unique_ptr<PgTestServer> g_server;  // stopped by its destructor at exit
std::string g_why;
bool g_tried = false;

class PgEnv : public StoreEnv {
 public:
  PgEnv(PgTestServer& server) : server_(server), dsn_(server.createDatabase()) {}
  ~PgEnv() override { server_.dropDatabase(dsn_); }
  Result<std::unique_ptr<MetaStore>> open() override {
    auto store = PgMetaStore::open(PgOptions{dsn_, 8});
    if (!store) return store.takeError();
    return std::unique_ptr<MetaStore>(std::move(*store));
  }
  std::string rawQuery(const std::string& sql) override { return pgQuery(dsn_, sql); }

 private:
  PgTestServer& server_;
  std::string dsn_;
};

}  // namespace

std::string pgQuery(const std::string& dsn, const std::string& sql) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  PGresult* res = PQexec(conn, sql.c_str());
  std::string out;
  if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 && PQnfields(res) > 0) {
    out = PQgetvalue(res, 0, 0);
  }
  PQclear(res);
  PQfinish(conn);
  return out;
}

bool pgRequired() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

PgTestServer* PgTestServer::get(std::string* why) {
  std::lock_guard lock(g_mutex);
  if (!g_tried) {
    g_tried = true;
    std::unique_ptr<PgTestServer> server(new PgTestServer());
    server->bin_ = findBin();
    if (server->bin_.empty()) {
      g_why = "PostgreSQL server binaries not found (/usr/lib/postgresql/<v>/bin; apt-get install postgresql)";
    } else {
      char tmpl[] = "/tmp/berth-pg-XXXXXX";
      if (::mkdtemp(tmpl) == nullptr) {
        g_why = "cannot create a temp dir for PostgreSQL";
      } else {
        server->root_ = tmpl;
        fs::permissions(server->root_, fs::perms::all);
        if (::geteuid() == 0) {
          if (const passwd* pw = ::getpwnam("postgres"); pw == nullptr ||
              ::chown(server->root_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
            g_why = "no postgres user to run the test server as";
          }
        }
        if (g_why.empty()) {
          const bool ok = server->initdb() && server->start();
          if (ok) {
            g_server = std::move(server);
          } else {
            g_why = "could not start a PostgreSQL test server (see " + std::string(tmpl) + "/log)";
          }
        }
      }
    }
  }
  if (!g_server && why != nullptr) *why = g_why;
  return g_server.get();
}

PgTestServer::~PgTestServer() {
  stop();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

bool PgTestServer::run(const std::string& command) const {
  const std::string quiet = command + " >>" + root_ + "/log 2>&1";
  return std::system(quiet.c_str()) == 0;
}

// initdb takes seconds, and ctest runs each test in its own process: the first process
// publishes a copy of its fresh cluster (renamed into place whole, so a concurrent one never
// sees half of it) and later ones copy that.
bool PgTestServer::initdb() {
  const std::string data = root_ + "/data";
  const std::string shared = (fs::temp_directory_path() / ("berth-pg-cluster-" + std::to_string(::geteuid()) +
                                                          "-" + fs::path(bin_).parent_path().filename().string()))
                                 .string();
  std::error_code ec;
  if (fs::exists(shared + "/PG_VERSION", ec) && run("cp -a " + shared + " " + data)) return true;
  fs::remove_all(data, ec);
  if (!run(asServerUser() + bin_ + "/initdb -D " + data + " -A trust -U berth -E UTF8 --locale=C --no-sync")) {
    return false;
  }
  const std::string staging = shared + ".tmp." + std::to_string(::getpid());
  if (run("cp -a " + data + " " + staging)) {
    fs::rename(staging, shared, ec);  // fails harmlessly when another process was first
    fs::remove_all(staging, ec);
  }
  return true;
}

bool PgTestServer::start() {
  // Unix socket in the temp dir only (no TCP port to collide on); no fsync: the data
  // need not outlive the machine.
  return run(asServerUser() + bin_ + "/pg_ctl -D " + root_ + "/data -w -l " + root_ +
             "/server.log -o \"-k " + root_ +
             " -c listen_addresses='' -p 5432 -c fsync=off -c max_connections=200\" start");
}

bool PgTestServer::stop() {
  return run(asServerUser() + bin_ + "/pg_ctl -D " + root_ + "/data -w -m immediate stop");
}

bool PgTestServer::restart() {
  return run(asServerUser() + bin_ + "/pg_ctl -D " + root_ + "/data -w -m fast restart -o \"-k " + root_ +
             " -c listen_addresses='' -p 5432 -c fsync=off -c max_connections=200\"");
}

std::string PgTestServer::adminDsn() const {
  return "host=" + root_ + " port=5432 user=berth dbname=postgres";
}

std::string PgTestServer::createDatabase() {
  std::string name;
  {
    std::lock_guard lock(g_mutex);
    name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(next_db_++);
  }
  PGconn* conn = PQconnectdb(adminDsn().c_str());
  // The name is ours (no user data): identifiers cannot be parameters.
  exec(conn, "CREATE DATABASE " + name);
  PQfinish(conn);
  return "host=" + root_ + " port=5432 user=berth dbname=" + name;
}

void PgTestServer::dropDatabase(const std::string& dsn) {
  const auto at = dsn.rfind("dbname=");
  if (at == std::string::npos) return;
  PGconn* conn = PQconnectdb(adminDsn().c_str());
  exec(conn, "DROP DATABASE IF EXISTS " + dsn.substr(at + 7) + " WITH (FORCE)");
  PQfinish(conn);
}

std::unique_ptr<StoreEnv> makePgEnv() {
  std::string why;
  PgTestServer* server = PgTestServer::get(&why);
  if (server == nullptr) {
    if (pgRequired()) ADD_FAILURE() << why;
    return nullptr;
  }
  return std::make_unique<PgEnv>(*server);
}

StoreFactory pgFactory() { return StoreFactory{"Postgres", [] { return makePgEnv(); }}; }

}  // namespace berth::meta::testing
