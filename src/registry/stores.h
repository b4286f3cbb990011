#pragma once
// Opens the engines the configuration names: metadata (SQLite in the data directory, or
// PostgreSQL) and blobs (the data directory, S3 or Azure Blob). A setting that cannot work
// (a wrong DSN, a missing bucket, refused keys) is an error naming the setting, never a
// fallback to local storage.
#include <memory>
#include <optional>

#include "common/dir_lock.h"
#include "common/result.h"
#include "config/config.h"
#include "meta/meta_store.h"
#include "storage/blob_store.h"

namespace berth::registry {

struct Stores {
  // Held while the data directory holds an embedded engine (SQLite or the filesystem
  // store): a second process on it refuses to start.
  std::optional<DirLock> lock;
  std::shared_ptr<storage::BlobStore> blobs;
  std::unique_ptr<meta::MetaStore> meta;
};

Result<Stores> openStores(const Config& config);

}  // namespace berth::registry
