#include "oci/manifest.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::oci {
namespace {

std::string dg(std::string_view content) { return digestOf(content).str(); }

std::string descriptor(std::string_view media_type, std::string_view content, int64_t size,
                       std::string_view extra = "") {
  std::string d = R"({"mediaType":")" + std::string(media_type) + R"(","digest":")" + dg(content) +
                  R"(","size":)" + std::to_string(size);
  if (!extra.empty()) d += "," + std::string(extra);
  return d + "}";
}

std::string ociManifest(std::string_view config_type, std::string_view extra = "",
                        std::string_view layers = "") {
  std::string l = layers.empty()
                      ? "[" + descriptor("application/vnd.oci.image.layer.v1.tar+gzip", "l1", 2) +
                            "," +
                            descriptor("application/vnd.oci.image.layer.v1.tar+gzip", "l2", 2) + "]"
                      : std::string(layers);
  std::string m = R"({"schemaVersion":2,"mediaType":")" + std::string(kOciManifest) +
                  R"(","config":)" + descriptor(config_type, "cfg", 3) + R"(,"layers":)" + l;
  if (!extra.empty()) m += "," + std::string(extra);
  return m + "}";
}

constexpr std::string_view kImageConfig = "application/vnd.oci.image.config.v1+json";
constexpr std::string_view kEmptyConfig = "application/vnd.oci.empty.v1+json";

void expectInvalid(std::string_view body, std::string_view content_type,
                   std::string_view message_part = "") {
  auto m = parseManifest(body, content_type);
  ASSERT_FALSE(m.ok()) << body;
  EXPECT_EQ(m.code(), Code::kManifestInvalid) << m.error().message;
  if (!message_part.empty()) {
    EXPECT_NE(m.error().message.find(message_part), std::string::npos) << m.error().message;
  }
}

TEST(ManifestTest, OciImageManifest) {
  auto m = parseManifest(ociManifest(kImageConfig), kOciManifest);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->media_type, kOciManifest);
  EXPECT_FALSE(m->isIndex());
  EXPECT_EQ(m->artifact_type, "");
  ASSERT_TRUE(m->config.has_value());
  EXPECT_EQ(m->config->media_type, kImageConfig);
  EXPECT_EQ(m->config->digest, digestOf("cfg"));
  EXPECT_EQ(m->config->size, 3);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[1].digest, digestOf("l2"));
  EXPECT_FALSE(m->layers[0].has_urls);
  EXPECT_TRUE(m->manifests.empty());
  EXPECT_FALSE(m->subject.has_value());
  EXPECT_EQ(m->annotations_json, "");
}

TEST(ManifestTest, MediaTypeFromBodyWhenNoHeader) {
  auto m = parseManifest(ociManifest(kImageConfig), "");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->media_type, kOciManifest);
}

TEST(ManifestTest, MediaTypeFromHeaderWhenBodyHasNone) {
  std::string body =
      R"({"schemaVersion":2,"config":)" + descriptor(kImageConfig, "c", 1) + R"(,"layers":[]})";
  auto m = parseManifest(body, std::string(kOciManifest) + "; charset=utf-8");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->media_type, kOciManifest);
  EXPECT_TRUE(m->layers.empty());
}

TEST(ManifestTest, NoMediaTypeAnywhereIsInvalid) {
  std::string body =
      R"({"schemaVersion":2,"config":)" + descriptor(kImageConfig, "c", 1) + R"(,"layers":[]})";
  expectInvalid(body, "", "media type");
}

TEST(ManifestTest, HeaderBodyMismatch) {
  expectInvalid(ociManifest(kImageConfig), kOciIndex, "does not match");
  expectInvalid(ociManifest(kImageConfig), "application/json", "does not match");
}

TEST(ManifestTest, ArtifactWithArtifactTypeAndEmptyConfig) {
  std::string layers = "[" + descriptor("application/vnd.example.sbom", "sbom", 4) + "]";
  auto m = parseManifest(
      ociManifest(kEmptyConfig, R"("artifactType":"application/vnd.example.sbom.v1")", layers),
      kOciManifest);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->artifact_type, "application/vnd.example.sbom.v1");
  EXPECT_EQ(m->config->media_type, kEmptyConfig);
}

TEST(ManifestTest, ArtifactTypeFallsBackToConfigMediaType) {
  auto m = parseManifest(ociManifest("application/vnd.example.config.v1+json"), kOciManifest);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->artifact_type, "application/vnd.example.config.v1+json");
  m = parseManifest(ociManifest(kEmptyConfig), kOciManifest);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->artifact_type, kEmptyConfig);
  m = parseManifest(ociManifest("application/vnd.docker.container.image.v1+json"), kOciManifest);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->artifact_type, "");
}

TEST(ManifestTest, SubjectAndAnnotations) {
  std::string subject = R"("subject":)" + descriptor(kOciManifest, "parent", 100);
  auto m = parseManifest(
      ociManifest(kEmptyConfig,
                  subject + R"(,"artifactType":"x/y","annotations":{"org.a":"1","b":"2"})"),
      kOciManifest);
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_TRUE(m->subject.has_value());
  EXPECT_EQ(m->subject->digest, digestOf("parent"));
  EXPECT_EQ(m->subject->media_type, kOciManifest);
  EXPECT_EQ(m->subject->size, 100);
  EXPECT_EQ(m->annotations_json, R"({"org.a":"1","b":"2"})");
}

TEST(ManifestTest, LayerUrlsSetHasUrls) {
  std::string layers =
      "[" +
      descriptor("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "win", 5,
                 R"("urls":["https://example.com/layer"])") +
      "," + descriptor("application/vnd.oci.image.layer.v1.tar", "l", 1, R"("urls":[])") + "]";
  auto m = parseManifest(ociManifest(kImageConfig, "", layers), kOciManifest);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->layers[0].has_urls);
  EXPECT_FALSE(m->layers[1].has_urls);
  expectInvalid(
      ociManifest(kImageConfig, "", "[" + descriptor("a/b", "l", 1, R"("urls":"http://x")") + "]"),
      kOciManifest, "layers[0].urls");
}

TEST(ManifestTest, DockerSchema2Manifest) {
  std::string body =
      R"({"schemaVersion":2,"mediaType":")" + std::string(kDockerManifest) + R"(","config":)" +
      descriptor("application/vnd.docker.container.image.v1+json", "c", 10) + R"(,"layers":[)" +
      descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", "l", 7) + "]}";
  auto m = parseManifest(body, kDockerManifest);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->media_type, kDockerManifest);
  EXPECT_EQ(m->artifact_type, "");
  EXPECT_EQ(m->layers.size(), 1u);
  EXPECT_FALSE(m->isIndex());
}

std::string index(std::string_view media_type, std::string_view extra = "") {
  std::string b =
      R"({"schemaVersion":2,"mediaType":")" + std::string(media_type) + R"(","manifests":[)" +
      descriptor(kOciManifest, "amd", 10, R"("platform":{"os":"linux","architecture":"amd64"})") +
      "," +
      descriptor(kOciManifest, "arm", 11,
                 R"("platform":{"os":"linux","architecture":"arm64","variant":"v8"})") +
      "," + descriptor(kOciManifest, "none", 12) + "]";
  if (!extra.empty()) b += "," + std::string(extra);
  return b + "}";
}

TEST(ManifestTest, OciIndexWithPlatforms) {
  auto m = parseManifest(index(kOciIndex), kOciIndex);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->isIndex());
  ASSERT_EQ(m->manifests.size(), 3u);
  EXPECT_EQ(m->manifests[0].platform_os, "linux");
  EXPECT_EQ(m->manifests[0].platform_architecture, "amd64");
  EXPECT_EQ(m->manifests[1].platform_architecture, "arm64");
  EXPECT_EQ(m->manifests[2].platform_os, "");
  EXPECT_EQ(m->manifests[2].digest, digestOf("none"));
  EXPECT_TRUE(m->layers.empty());
  EXPECT_FALSE(m->config.has_value());
  EXPECT_EQ(m->artifact_type, "");
}

TEST(ManifestTest, OciIndexArtifactTypeAndSubject) {
  auto m =
      parseManifest(index(kOciIndex, R"("artifactType":"application/vnd.x","subject":)" +
                                         descriptor(kOciManifest, "s", 3) + R"(,"annotations":{})"),
                    "");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->artifact_type, "application/vnd.x");
  ASSERT_TRUE(m->subject.has_value());
  EXPECT_EQ(m->subject->digest, digestOf("s"));
  EXPECT_EQ(m->annotations_json, "{}");
}

TEST(ManifestTest, DockerManifestList) {
  auto m = parseManifest(index(kDockerManifestList), kDockerManifestList);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->isIndex());
  EXPECT_EQ(m->manifests.size(), 3u);
}

TEST(ManifestTest, IndexNeedsManifestsArray) {
  expectInvalid(R"({"schemaVersion":2,"mediaType":")" + std::string(kOciIndex) + R"("})", kOciIndex,
                "manifests");
  expectInvalid(R"({"schemaVersion":2,"manifests":{}})", kOciIndex, "manifests");
  expectInvalid(
      index(kOciIndex).replace(index(kOciIndex).find("\"platform\":{"), 12, "\"platform\":[{"),
      kOciIndex);
}

TEST(ManifestTest, Schema1Refused) {
  const std::string msg = "schema 1 manifests are not supported; push a schema 2 or OCI manifest";
  std::string body = R"({"schemaVersion":1,"name":"a","tag":"b","fsLayers":[]})";
  for (std::string_view header : {kDockerSchema1, kDockerSchema1Signed}) {
    auto m = parseManifest(body, header);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.code(), Code::kManifestInvalid);
    EXPECT_EQ(m.error().message, msg);
    // Even when the body is not JSON, the header alone refuses it.
    EXPECT_EQ(parseManifest("not json", header).error().message, msg);
  }
  auto m = parseManifest(body, "");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, msg);
  m = parseManifest(
      R"({"schemaVersion":2,"mediaType":")" + std::string(kDockerSchema1Signed) + R"("})", "");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, msg);
  m = parseManifest(body, "application/json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message, msg);
}

TEST(ManifestTest, SchemaVersionMustBe2ForKnownTypes) {
  std::string body = ociManifest(kImageConfig);
  std::string v3 = body;
  v3.replace(v3.find("\"schemaVersion\":2"), 17, "\"schemaVersion\":3");
  expectInvalid(v3, kOciManifest, "schemaVersion");
  std::string missing = body;
  missing.replace(missing.find("\"schemaVersion\":2,"), 18, "");
  expectInvalid(missing, kOciManifest, "schemaVersion");
  std::string text = body;
  text.replace(text.find("\"schemaVersion\":2"), 17, "\"schemaVersion\":\"2\"");
  expectInvalid(text, kOciManifest, "schemaVersion");
}

TEST(ManifestTest, BadJson) {
  expectInvalid("", kOciManifest, "not valid JSON");
  expectInvalid("{", kOciManifest, "not valid JSON");
  expectInvalid("{\"a\":1,}", kOciManifest, "not valid JSON");
  expectInvalid("{} {}", kOciManifest, "not valid JSON");
  expectInvalid("{\"a\":\"\xff\"}", kOciManifest, "not valid JSON");
  expectInvalid("[]", kOciManifest, "JSON object");
  expectInvalid("\"str\"", kOciManifest, "JSON object");
  expectInvalid("null", "", "JSON object");
}

TEST(ManifestTest, TooDeepJson) {
  std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  expectInvalid(deep, kOciManifest, "deeper than 64");
  // Far deeper nesting must not exhaust the stack either.
  std::string very_deep = std::string(1000000, '[');
  expectInvalid(very_deep, kOciManifest, "deeper");
  // Just inside the limit parses (the object itself is one level).
  std::string ok = "{\"schemaVersion\":2,\"x\":" + std::string(62, '[') + std::string(62, ']') +
                   ",\"mediaType\":\"application/vnd.example+json\"}";
  EXPECT_TRUE(parseManifest(ok, "").ok());
}

TEST(ManifestTest, Oversize) {
  std::string big = "{\"pad\":\"" + std::string(kMaxManifestSize, 'a') + "\"}";
  auto m = parseManifest(big, kOciManifest);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.code(), Code::kPayloadTooLarge);
  std::string exact = "{\"mediaType\":\"application/x+json\",\"pad\":\"";
  exact += std::string(kMaxManifestSize - exact.size() - 2, 'a') + "\"}";
  ASSERT_EQ(exact.size(), kMaxManifestSize);
  EXPECT_TRUE(parseManifest(exact, "").ok());
}

TEST(ManifestTest, BadDescriptorsNameTheField) {
  std::string bad_digest = R"({"mediaType":"a/b","digest":"sha256:1234","size":1})";
  expectInvalid(ociManifest(kImageConfig, "", "[" + bad_digest + "]"), kOciManifest,
                "layers[0].digest");
  expectInvalid(ociManifest(kImageConfig, "",
                            "[" + descriptor("a/b", "x", 1) +
                                R"(,{"mediaType":"a/b","digest":"md5:abc","size":1}])"),
                kOciManifest, "layers[1].digest");
  expectInvalid(ociManifest(kImageConfig, "",
                            "[" + std::string(R"({"digest":")") + dg("x") + R"(","size":1}])"),
                kOciManifest, "layers[0].mediaType");
  expectInvalid(ociManifest(kImageConfig, "", "[" + descriptor("a/b", "x", -1) + "]"), kOciManifest,
                "layers[0].size");
  expectInvalid(ociManifest(kImageConfig, "",
                            "[" + std::string(R"({"mediaType":"a/b","digest":")") + dg("x") +
                                R"(","size":1.5}])"),
                kOciManifest, "layers[0].size");
  expectInvalid(ociManifest(kImageConfig, "",
                            "[" + std::string(R"({"mediaType":"a/b","digest":")") + dg("x") +
                                R"(","size":"1"}])"),
                kOciManifest, "layers[0].size");
  expectInvalid(ociManifest(kImageConfig, "",
                            "[" + std::string(R"({"mediaType":"a/b","digest":")") + dg("x") +
                                R"(","size":18446744073709551615}])"),
                kOciManifest, "layers[0].size");
  expectInvalid(
      ociManifest(kImageConfig, "",
                  "[" + std::string(R"({"mediaType":"a/b","digest":")") + dg("x") + R"("}])"),
      kOciManifest, "layers[0].size");
  expectInvalid(ociManifest(kImageConfig, "", "[1]"), kOciManifest, "layers[0]");
  expectInvalid(ociManifest(kImageConfig, "", R"({"a":1})"), kOciManifest, "layers");
  expectInvalid(ociManifest(kImageConfig, R"("subject":{"mediaType":"a/b"})"), kOciManifest,
                "subject.digest");
  expectInvalid(ociManifest(kImageConfig, R"("artifactType":5)"), kOciManifest, "artifactType");
  expectInvalid(ociManifest(kImageConfig, R"("annotations":[])"), kOciManifest, "annotations");

  auto m = parseManifest(ociManifest(kImageConfig, "", "[" + bad_digest + "]"), kOciManifest);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().detail, R"({"field":"layers[0].digest"})");
}

TEST(ManifestTest, ManifestNeedsConfigAndLayers) {
  expectInvalid(R"({"schemaVersion":2,"layers":[]})", kOciManifest, "config");
  expectInvalid(R"({"schemaVersion":2,"config":)" + descriptor(kImageConfig, "c", 1) + "}",
                kOciManifest, "layers");
  expectInvalid(R"({"schemaVersion":2,"config":"x","layers":[]})", kOciManifest, "config");
}

TEST(ManifestTest, OtherMediaTypesAreLenient) {
  std::string body = R"({"mediaType":"application/vnd.oci.artifact.manifest.v1+json",)"
                     R"("artifactType":"application/vnd.example","blobs":[)" +
                     descriptor("a/b", "b1", 2) + R"(],"subject":)" +
                     descriptor(kOciManifest, "s", 3) + R"(,"annotations":{"k":"v"}})";
  auto m = parseManifest(body, "");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->media_type, "application/vnd.oci.artifact.manifest.v1+json");
  EXPECT_EQ(m->artifact_type, "application/vnd.example");
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].digest, digestOf("b1"));
  ASSERT_TRUE(m->subject.has_value());
  EXPECT_EQ(m->annotations_json, R"({"k":"v"})");

  // Malformed known fields are ignored, not fatal, for types we do not know.
  auto other = parseManifest(R"({"config":7,"layers":[{"digest":"bad"}],"subject":"x"})",
                             "application/vnd.example.thing+json");
  ASSERT_TRUE(other.ok()) << other.error().message;
  EXPECT_FALSE(other->config.has_value());
  EXPECT_TRUE(other->layers.empty());
  EXPECT_FALSE(other->subject.has_value());
  EXPECT_FALSE(other->isIndex());
}

TEST(ManifestTest, NonStringMediaTypeIsInvalid) {
  expectInvalid(R"({"schemaVersion":2,"mediaType":5})", "", "mediaType");
}

}  // namespace
}  // namespace berth::oci
