#pragma once
// The pages replicas read from each other (docs/replication.md): a page of the journal
// (GET /replication/v1/journal) or of the snapshot a new replica fills itself from
// (GET /replication/v1/snapshot). Both carry entries in one form, pushes with their
// manifest's bytes inline and small blobs those manifests name, so the reader applies
// both with one code path.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "common/result.h"
#include "meta/meta_store.h"
#include "meta/replication_store.h"
#include "storage/blob_store.h"

namespace berth::replication {

// One write as a page carries it.
struct PageEntry : meta::JournalRecord {
  std::string origin;  // the region the write was made in ("" in a journal: the peer's)
  std::string media_type;
  std::optional<std::string> manifest;  // push: the bytes, unless the peer no longer has them
};

struct Page {
  std::string region;  // of the replica that served it
  int64_t last = 0;    // its newest journal id (of a snapshot: when the snapshot began)
  std::string next;    // a snapshot: the repository the next page starts after ("" = done)
  std::vector<PageEntry> entries;
  std::map<std::string, std::string> blobs;  // small blobs, by digest
};

// Builds a page, reading manifests from `meta` and inlining the small blobs they name
// from `blobs` (up to a budget per page).
class PageWriter {
 public:
  PageWriter(meta::MetaStore& meta, storage::BlobStore& blobs) : meta_(meta), blobs_(blobs) {}
  // Adds `row`; a push gets its manifest's bytes (none when it is gone here since).
  Status add(const meta::JournalRecord& row, std::string_view origin = {});
  std::string finish(std::string_view region, int64_t last, std::string_view next = {});

 private:
  void inlineBlobs(const std::string& bytes, const std::string& media_type);

  meta::MetaStore& meta_;
  storage::BlobStore& blobs_;
  boost::json::array entries_;
  boost::json::object inline_;
  uint64_t inlined_ = 0;
};

// Reads a page; kInvalidArgument saying what is malformed.
Result<Page> parsePage(std::string_view body);

}  // namespace berth::replication
