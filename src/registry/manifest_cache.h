#pragma once
// The caches in front of the metadata store: manifests by (repository, reference), and the
// blob links of a repository (positive answers only), both invalidated per repository.
#include <cstdint>
#include <string>

#include "oci/digest.h"
#include "registry/generation_cache.h"

namespace berth::registry {

struct CachedManifest {
  oci::Digest digest;
  std::string media_type;
  std::string bytes;
  std::string denied;  // why a lock (readEnabled false) refuses this pull; "" = readable
};

struct WeighManifest {
  size_t operator()(const CachedManifest& m) const { return m.bytes.size() + m.media_type.size(); }
};
using ManifestCache = GenerationCache<CachedManifest, WeighManifest>;

// A blob linked into a repository, and its size.
struct CachedBlobLink {
  uint64_t size = 0;
};
struct WeighBlobLink {
  size_t operator()(const CachedBlobLink&) const { return sizeof(CachedBlobLink); }
};
using BlobLinkCache = GenerationCache<CachedBlobLink, WeighBlobLink>;

}  // namespace berth::registry
