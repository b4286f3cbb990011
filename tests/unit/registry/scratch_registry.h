#pragma once
// A Registry for unit tests: a filesystem blob store and SQLite metadata in a fresh
// directory named for the running test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "meta/sqlite/sqlite_meta_store.h"
#include "registry/registry.h"
#include "storage/filesystem/fs_blob_store.h"

namespace berth::registry::testing {

// An empty directory for the running test (the caller removes it).
inline std::filesystem::path scratchDir(const std::string& prefix) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::temp_directory_path() /
             (prefix + "-" + std::to_string(::getpid()) + "-" + (info ? info->name() : "x"));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// A Registry over `dir`; `with_meta` takes what the test needs from the metadata store (its
// other stores) before the Registry owns it. Null (with a test failure) if a store fails.
inline std::unique_ptr<Registry> openScratchRegistry(
    const std::filesystem::path& dir, RegistryOptions options = {},
    const std::function<void(meta::SqliteMetaStore&)>& with_meta = nullptr) {
  auto blobs = storage::FsBlobStore::open(dir.string());
  EXPECT_TRUE(blobs);
  auto meta = meta::SqliteMetaStore::open((dir / "meta.db").string());
  EXPECT_TRUE(meta);
  if (!blobs || !meta) return nullptr;
  if (with_meta) with_meta(**meta);
  return std::make_unique<Registry>(std::move(*blobs), std::move(*meta), options);
}

}  // namespace berth::registry::testing
