#include "registry/stores.h"

#include <cstdlib>
#include <filesystem>

#include "meta/postgres/pg_meta_store.h"
#include "meta/sqlite/sqlite_meta_store.h"
#include "storage/azure/azure_blob_store.h"
#include "storage/filesystem/fs_blob_store.h"
#include "storage/s3/s3_blob_store.h"

namespace berth::registry {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

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
  if (s.driver == "s3") {
    storage::S3Options o;
    o.bucket = s.s3.bucket;
    o.region = s.s3.region;
    o.endpoint = s.s3.endpoint;
    o.path_style = s.s3.path_style;
    o.access_key = env("AWS_ACCESS_KEY_ID");
    o.secret_key = env("AWS_SECRET_ACCESS_KEY");
    o.session_token = env("AWS_SESSION_TOKEN");
    if (o.access_key.empty() || o.secret_key.empty()) {
      return makeError(Code::kInvalidArgument,
                       "storage.driver s3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
    }
    auto s3 = storage::S3BlobStore::open(o);  // checks the bucket and the keys; names the setting
    if (!s3) return s3.takeError();
    return std::shared_ptr<storage::BlobStore>(std::move(*s3));
  }
  storage::AzureOptions o;
  o.container = s.azure.container;
  o.account = env("AZURE_STORAGE_ACCOUNT");
  o.key = env("AZURE_STORAGE_KEY");
  o.sas = env("AZURE_STORAGE_SAS_TOKEN");
  o.endpoint = s.azure.endpoint;
  if (o.account.empty() || (o.key.empty() && o.sas.empty())) {
    return makeError(Code::kInvalidArgument,
                     "storage.driver azure: set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY (or "
                     "AZURE_STORAGE_SAS_TOKEN) in the environment");
  }
  if (o.endpoint.empty()) o.endpoint = "https://" + o.account + ".blob.core.windows.net";
  auto azure = storage::AzureBlobStore::open(o);
  if (!azure) return azure.takeError();
  return std::shared_ptr<storage::BlobStore>(std::move(*azure));
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
  auto meta = openMetaStore(config);
  if (!meta) return meta.takeError();
  out.meta = std::move(*meta);
  auto blobs = openBlobStore(config);
  if (!blobs) return blobs.takeError();
  out.blobs = std::move(*blobs);
  return out;
}

}  // namespace berth::registry
