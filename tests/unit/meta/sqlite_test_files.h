#pragma once
// Scratch database files and raw SQL access for the SQLite store tests.
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace berth::meta::testing {

// A fresh directory holding meta.db (and its -wal/-shm), removed at the end. On tmpfs
// when there is one: the paging tests commit 10,000 transactions, each an fsync on disk
// (15 s here), and nothing in these suites needs the data to outlive the machine.
inline std::filesystem::path scratchRoot() {
  std::error_code ec;
  if (std::getenv("TMPDIR") == nullptr && std::filesystem::is_directory("/dev/shm", ec)) {
    return "/dev/shm";
  }
  return std::filesystem::temp_directory_path();
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    dir_ = scratchRoot() /
           ("berth-meta-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string db() const { return (dir_ / "meta.db").string(); }

 private:
  std::filesystem::path dir_;
};

// Runs `sql` (one or more statements) on the file with a separate raw connection;
// returns the first column of the first row, if any.
inline std::string rawQuery(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open(db_path.c_str(), &db) == SQLITE_OK) {
    sqlite3_exec(
        db, sql.c_str(),
        [](void* arg, int, char** values, char**) {
          auto* s = static_cast<std::string*>(arg);
          if (s->empty() && values[0] != nullptr) *s = values[0];
          return 0;
        },
        &out, nullptr);
  }
  sqlite3_close(db);
  return out;
}

}  // namespace berth::meta::testing
