#pragma once
// Manifest parsing and validation: OCI image manifest and index, Docker schema 2 manifest
// and manifest list, and any other JSON media type (artifacts) stored as pushed.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "oci/digest.h"

namespace berth::oci {

inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr size_t kMaxManifestSize = 4 * 1024 * 1024;
inline constexpr int kMaxJsonDepth = 64;

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::string artifact_type;
  std::string platform_os;            // index children only
  std::string platform_architecture;  // index children only
  bool has_urls = false;              // non-distributable layer with external urls
};

struct ParsedManifest {
  std::string media_type;     // effective media type (header, else mediaType field)
  std::string artifact_type;  // artifactType, else config.mediaType for OCI manifests
                              // with a non-image config (per the referrers rules)
  std::optional<Descriptor> config;
  std::vector<Descriptor> layers;     // blobs this manifest references
  std::vector<Descriptor> manifests;  // index children (manifests referenced)
  std::optional<Descriptor> subject;
  std::string annotations_json;  // "annotations" object serialized, or "" if absent
  bool isIndex() const { return media_type == kOciIndex || media_type == kDockerManifestList; }
};

// Parses and validates `bytes` pushed with Content-Type `content_type` (may be empty).
// Rules:
//  - larger than kMaxManifestSize: kPayloadTooLarge.
//  - not JSON, nesting deeper than kMaxJsonDepth, not an object: kManifestInvalid.
//  - schema 1 media types (header or body): kManifestInvalid with a message that schema 1
//    is not supported.
//  - the effective media type is the header's unless empty, then the body's "mediaType".
//    If both are present and differ: kManifestInvalid.
//  - OCI/Docker manifests need a valid "config" descriptor and a "layers" array of valid
//    descriptors; indexes need a "manifests" array. Descriptors need mediaType (string),
//    a valid digest (else kDigestInvalid... reported as kManifestInvalid with the detail),
//    and a non-negative integer size.
//  - other media types: accepted if JSON object; known fields (config, layers, manifests,
//    blobs, subject) are extracted if present and well formed.
Result<ParsedManifest> parseManifest(std::string_view bytes, std::string_view content_type);

}  // namespace berth::oci
