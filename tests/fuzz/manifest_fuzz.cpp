// oci::parseManifest: every manifest PUT body. Input: one byte choosing the Content-Type
// (the known media types, an artifact type, one with parameters, or none), then the body.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "oci/manifest.h"

using berth::Code;
namespace oci = berth::oci;
namespace json = boost::json;

namespace {

constexpr std::string_view kContentTypes[] = {
    "",
    oci::kOciManifest,
    oci::kOciIndex,
    oci::kDockerManifest,
    oci::kDockerManifestList,
    oci::kDockerSchema1,
    oci::kDockerSchema1Signed,
    "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
    "application/vnd.example.sbom.v1+json",
    "application/json",
};

bool isKnown(std::string_view t) {
  return t == oci::kOciManifest || t == oci::kOciIndex || t == oci::kDockerManifest ||
         t == oci::kDockerManifestList;
}

void checkDescriptor(const oci::Descriptor& d) {
  FUZZ_CHECK(!d.media_type.empty());
  FUZZ_CHECK(!d.digest.empty());
  auto again = oci::Digest::parse(d.digest.str());
  FUZZ_CHECK(again && *again == d.digest);
  FUZZ_CHECK(d.size >= 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view content_type = kContentTypes[data[0] % std::size(kContentTypes)];
  std::string_view body = berth::fuzz::asText(data + 1, size - 1);

  auto m = oci::parseManifest(body, content_type);
  if (!m) {
    FUZZ_CHECK(m.code() == Code::kManifestInvalid || m.code() == Code::kPayloadTooLarge);
    FUZZ_CHECK(!m.error().message.empty());
    if (!m.error().detail.empty()) {
      boost::system::error_code ec;
      json::value detail = json::parse(m.error().detail, ec);
      FUZZ_CHECK(!ec && detail.is_object());
    }
    return 0;
  }
  // A manifest that parses has a media type: the header's, else the body's.
  FUZZ_CHECK(!m->media_type.empty());
  std::string_view header = content_type.substr(0, content_type.find(';'));
  if (!header.empty()) FUZZ_CHECK(m->media_type == header);
  FUZZ_CHECK(m->media_type != oci::kDockerSchema1 && m->media_type != oci::kDockerSchema1Signed);

  // It is a JSON object within the size limit, and a body mediaType agrees with the result.
  FUZZ_CHECK(body.size() <= oci::kMaxManifestSize);
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = oci::kMaxJsonDepth;
  json::value root = json::parse(json::string_view(body.data(), body.size()), ec, {}, options);
  FUZZ_CHECK(!ec && root.is_object());
  if (const json::value* mt = root.get_object().if_contains("mediaType")) {
    FUZZ_CHECK(mt->is_string());
    if (header.empty()) FUZZ_CHECK(m->media_type == std::string_view(mt->get_string()));
  }

  // Known types were fully validated: manifests carry a config, indexes children only.
  if (isKnown(m->media_type)) {
    const json::value* version = root.get_object().if_contains("schemaVersion");
    FUZZ_CHECK(version && ((version->is_int64() && version->get_int64() == 2) ||
                           (version->is_uint64() && version->get_uint64() == 2)));
    if (m->isIndex()) {
      FUZZ_CHECK(!m->config && m->layers.empty());
    } else {
      FUZZ_CHECK(m->config.has_value() && m->manifests.empty());
    }
  }
  if (m->config) checkDescriptor(*m->config);
  if (m->subject) checkDescriptor(*m->subject);
  for (const auto& d : m->layers) checkDescriptor(d);
  for (const auto& d : m->manifests) checkDescriptor(d);
  if (!m->annotations_json.empty()) {
    json::value a = json::parse(m->annotations_json, ec, {}, options);
    FUZZ_CHECK(!ec && a.is_object());
  }

  return 0;
}
