#pragma once
// Manifests put straight into a MetaStore by the store tests: an image whose bytes name it,
// and an index of manifests of the repository.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "meta/meta_store.h"
#include "oci/digest.h"

namespace berth::meta::testing {

inline constexpr const char* kImageType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";

// An image manifest ({"name":"<name>"}, amd64/linux) referencing `layers`, each linked first
// with its length as size; with `subject`, a referrer (artifact type application/vnd.example.sig).
inline oci::Digest putImage(MetaStore& meta, const std::string& repo, const std::string& name,
                            const std::vector<std::string>& layers, std::optional<std::string> tag = std::nullopt,
                            std::optional<oci::Digest> subject = std::nullopt) {
  PutManifestRequest req;
  req.repository = repo;
  req.manifest.bytes = "{\"name\":\"" + name + "\"}";
  req.manifest.digest = oci::digestOf(req.manifest.bytes);
  req.manifest.media_type = kImageType;
  req.manifest.artifact_type = subject ? "application/vnd.example.sig" : "";
  req.manifest.created_at = 1000 + static_cast<int64_t>(name.size());
  for (const auto& l : layers) {
    EXPECT_TRUE(meta.linkBlob(repo, oci::digestOf(l), l.size()).ok());
    req.blobs.push_back(oci::digestOf(l));
  }
  req.tag = std::move(tag);
  req.subject = std::move(subject);
  req.architecture = "amd64";
  req.os = "linux";
  auto s = meta.putManifest(req);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return req.manifest.digest;
}

// An index manifest ({"index":"<name>"}) of `children`.
inline oci::Digest putIndex(MetaStore& meta, const std::string& repo, const std::string& name,
                            const std::vector<oci::Digest>& children, std::optional<std::string> tag = std::nullopt) {
  PutManifestRequest req;
  req.repository = repo;
  req.manifest.bytes = "{\"index\":\"" + name + "\"}";
  req.manifest.digest = oci::digestOf(req.manifest.bytes);
  req.manifest.media_type = kIndexType;
  req.manifests = children;
  req.tag = std::move(tag);
  auto s = meta.putManifest(req);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return req.manifest.digest;
}

}  // namespace berth::meta::testing
