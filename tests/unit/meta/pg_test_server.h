#pragma once
// One real PostgreSQL server per test binary, started on first use (initdb into a temp
// dir, unix socket only, no TCP) and stopped at exit; each test gets a fresh database.
// Never a system service. Without the PostgreSQL binaries the tests skip, unless CI=true,
// where they fail.
#include <memory>
#include <string>

#include "meta_store_contract.h"

namespace berth::meta::testing {

class PgTestServer {
 public:
  // The server, or nullptr when the binaries are missing or it could not start; `why`
  // says which. Started once per process.
  static PgTestServer* get(std::string* why);

  ~PgTestServer();

  // A new empty database; its DSN (libpq key=value).
  std::string createDatabase();
  void dropDatabase(const std::string& dsn);
  // pg_ctl restart (fast shutdown, then start): what an open store sees as a lost server.
  bool restart();
  bool stop();
  bool start();
  std::string adminDsn() const;

 private:
  PgTestServer() = default;
  bool run(const std::string& command) const;
  bool initdb();

  std::string bin_;   // /usr/lib/postgresql/<v>/bin
  std::string root_;  // temp dir: data/, the socket, the log
  int next_db_ = 0;
};

// Skips the test (or, with CI=true, fails it) when there is no server; else the server.
#define BERTH_REQUIRE_PG(server_var)                                                       \
  std::string pg_why_;                                                                     \
  ::berth::meta::testing::PgTestServer* server_var = ::berth::meta::testing::PgTestServer::get(&pg_why_); \
  if (server_var == nullptr) {                                                             \
    if (::berth::meta::testing::pgRequired()) FAIL() << pg_why_;                           \
    GTEST_SKIP() << pg_why_;                                                               \
  }

bool pgRequired();  // CI=true
// Runs `sql` on the database: the first column of the first row, or "".
std::string pgQuery(const std::string& dsn, const std::string& sql);

// The StoreEnv of the PostgreSQL instantiations: a fresh database; open() connects again.
std::unique_ptr<StoreEnv> makePgEnv();

}  // namespace berth::meta::testing
