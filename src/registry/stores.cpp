#include "registry/stores.h"

#include <filesystem>

#include "meta/postgres/pg_meta_store.h"
#include "meta/sqlite/sqlite_meta_store.h"
#include "storage/filesystem/fs_blob_store.h"

namespace berth::registry {

namespace {

Error named(std::string_view setting, const Error& e) {
  return makeError(e.code, std::string(setting) + ": " + e.message);
}

Result<std::shared_ptr<storage::BlobStore>> openBlobStore(const Config& config) {
  const auto& s = config.storage;
  if (s.driver == "filesystem") {
    auto fs = storage::FsBlobStore::open(config.data_dir);
    if (!fs) return named("data", fs.error());
    return std::shared_ptr<storage::BlobStore>(std::move(*fs));
  }
  return makeError(Code::kUnsupported, "storage.driver: " + s.driver + " is not available in this build");
}

Result<std::unique_ptr<meta::MetaStore>> openMetaStore(const Config& config) {
  if (config.meta.driver == "sqlite") {
    auto db = meta::SqliteMetaStore::open((std::filesystem::path(config.data_dir) / "meta.db").string());
    if (!db) return named("data", db.error());
    return std::unique_ptr<meta::MetaStore>(std::move(*db));
  }
  meta::PgOptions options;
  options.dsn = config.meta.dsn;
  options.pool_size = config.meta.pool_size;
  auto pg = meta::PgMetaStore::open(options);
  if (!pg) return pg.takeError();  // names meta.dsn, without the password
  return std::unique_ptr<meta::MetaStore>(std::move(*pg));
}

}  // namespace

Result<Stores> openStores(const Config& config) {
  Stores out;
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return makeError(Code::kIoError, "data: cannot create " + config.data_dir + ": " + ec.message());
  if (config.meta.driver == "sqlite" || config.storage.driver == "filesystem") {
    auto lock = DirLock::acquire(config.data_dir);
    if (!lock) return lock.takeError();
    out.lock.emplace(std::move(*lock));
  }
  auto blobs = openBlobStore(config);
  if (!blobs) return blobs.takeError();
  out.blobs = std::move(*blobs);
  auto meta = openMetaStore(config);
  if (!meta) return meta.takeError();
  out.meta = std::move(*meta);
  return out;
}

}  // namespace berth::registry
