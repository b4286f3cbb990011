// The MetaStore conformance suite. Implementations instantiate it in their own test file
// (see sqlite_meta_store_test.cpp).
#include "meta_store_contract.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "oci/digest.h"

namespace berth::meta::testing {
namespace {

oci::Digest digest(std::string_view content) { return oci::digestOf(content); }

std::string manifestBytes(std::string_view name) {
  return R"({"schemaVersion":2,"name":")" + std::string(name) + "\"}";
}

// A manifest whose bytes are derived from `name`; references nothing unless added.
PutManifestRequest manifest(std::string_view repository, std::string_view name,
                            std::optional<std::string> tag = std::nullopt) {
  PutManifestRequest req;
  req.repository = std::string(repository);
  req.manifest.bytes = manifestBytes(name);
  req.manifest.digest = digest(req.manifest.bytes);
  req.manifest.media_type = "application/vnd.oci.image.manifest.v1+json";
  req.manifest.created_at = 1700000000;
  req.tag = std::move(tag);
  return req;
}

std::string detailFor(const oci::Digest& d) { return "{\"digest\":\"" + d.str() + "\"}"; }

#define ASSERT_OK(expr)                                                    \
  do {                                                                     \
    const auto& result_ = (expr);                                          \
    ASSERT_TRUE(result_.ok()) << #expr << ": " << result_.error().message; \
  } while (0)

#define EXPECT_CODE(expr, expected)                                           \
  do {                                                                        \
    const auto& result_ = (expr);                                             \
    if (result_.ok()) {                                                       \
      ADD_FAILURE() << #expr << " succeeded";                                 \
    } else {                                                                  \
      EXPECT_EQ(result_.error().code, (expected)) << result_.error().message; \
    }                                                                         \
  } while (0)

// --- blobs ---

TEST_P(MetaStoreContract, LinkBlobIsVisibleInItsRepositoryOnly) {
  const auto blob = digest("layer");
  EXPECT_CODE(store().repositoryBlob("a", blob), Code::kBlobUnknown);
  EXPECT_CODE(store().anyBlob(blob), Code::kBlobUnknown);
  ASSERT_OK(store().linkBlob("a", blob, 5));
  ASSERT_OK(store().linkBlob("a", blob, 5));  // idempotent
  auto size = store().repositoryBlob("a", blob);
  ASSERT_OK(size);
  EXPECT_EQ(*size, 5u);
  EXPECT_CODE(store().repositoryBlob("b", blob), Code::kBlobUnknown);
  EXPECT_CODE(store().repositoryBlob("a", digest("other")), Code::kBlobUnknown);
  auto any = store().anyBlob(blob);
  ASSERT_OK(any);
  EXPECT_EQ(*any, 5u);
}

TEST_P(MetaStoreContract, BlobSizeRoundTripsFullRange) {
  const uint64_t big = (uint64_t{1} << 40) + 7;
  ASSERT_OK(store().linkBlob("a", digest("big"), big));
  auto size = store().repositoryBlob("a", digest("big"));
  ASSERT_OK(size);
  EXPECT_EQ(*size, big);
}

TEST_P(MetaStoreContract, UnlinkBlob) {
  const auto blob = digest("layer");
  EXPECT_CODE(store().unlinkBlob("a", blob), Code::kBlobUnknown);  // unknown repository
  ASSERT_OK(store().linkBlob("a", blob, 5));
  ASSERT_OK(store().linkBlob("b", blob, 5));
  EXPECT_CODE(store().unlinkBlob("a", digest("other")), Code::kBlobUnknown);
  ASSERT_OK(store().unlinkBlob("a", blob));
  EXPECT_CODE(store().repositoryBlob("a", blob), Code::kBlobUnknown);
  EXPECT_CODE(store().unlinkBlob("a", blob), Code::kBlobUnknown);
  ASSERT_OK(store().anyBlob(blob));  // still in b
  ASSERT_OK(store().unlinkBlob("b", blob));
  EXPECT_CODE(store().anyBlob(blob), Code::kBlobUnknown);
}

// --- repositories ---

TEST_P(MetaStoreContract, RepositoryExistsWhileItHasABlobLinkOrManifest) {
  auto exists = [&](std::string_view repo) {
    auto r = store().repositoryExists(repo);
    EXPECT_TRUE(r.ok());
    return r.ok() && *r;
  };
  EXPECT_FALSE(exists("a"));
  UploadRecord upload{"u1", "a", 0, 1, 1};
  ASSERT_OK(store().createUpload(upload));
  EXPECT_FALSE(exists("a"));  // an upload session does not create the repository

  ASSERT_OK(store().linkBlob("a", digest("x"), 1));
  EXPECT_TRUE(exists("a"));
  ASSERT_OK(store().putManifest(manifest("a", "m")));
  ASSERT_OK(store().unlinkBlob("a", digest("x")));
  EXPECT_TRUE(exists("a"));  // still has a manifest
  ASSERT_OK(store().deleteManifest("a", manifest("a", "m").manifest.digest));
  EXPECT_FALSE(exists("a"));
  auto repos = store().listRepositories("", 100);
  ASSERT_OK(repos);
  EXPECT_TRUE(repos->empty());

  ASSERT_OK(store().putManifest(manifest("b", "m")));
  EXPECT_TRUE(exists("b"));
}

TEST_P(MetaStoreContract, ListRepositoriesPagesInByteOrder) {
  const std::vector<std::string> names = {"b", "a/b", "a", "a-b", "a.b", "a_b", "z/y/x", "A"};
  for (const auto& n : names) ASSERT_OK(store().linkBlob(n, digest("x"), 1));
  ASSERT_OK(store().linkBlob("a", digest("y"), 1));  // a second link, listed once
  std::vector<std::string> expected = names;
  std::sort(expected.begin(), expected.end());  // std::string compares bytewise
  auto all = store().listRepositories("", 100);
  ASSERT_OK(all);
  EXPECT_EQ(*all, expected);

  auto first = store().listRepositories("", 3);
  ASSERT_OK(first);
  EXPECT_EQ(*first, std::vector<std::string>(expected.begin(), expected.begin() + 3));
  auto next = store().listRepositories(first->back(), 3);
  ASSERT_OK(next);
  EXPECT_EQ(*next, std::vector<std::string>(expected.begin() + 3, expected.begin() + 6));
  auto tail = store().listRepositories("a_", 100);  // `last` need not exist
  ASSERT_OK(tail);
  EXPECT_EQ(*tail, std::vector<std::string>({"a_b", "b", "z/y/x"}));
  auto none = store().listRepositories("zz", 100);
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  auto zero = store().listRepositories("", 0);
  ASSERT_OK(zero);
  EXPECT_TRUE(zero->empty());
}

TEST_P(MetaStoreContract, ListTenThousandRepositoriesPageByPage) {
  constexpr int kCount = 10000;
  std::vector<std::string> expected;
  for (int i = 0; i < kCount; ++i) {
    expected.push_back("org/repo" + std::to_string(i));
    ASSERT_OK(store().linkBlob(expected.back(), digest("layer"), 1));
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> seen;
  std::string last;
  for (;;) {
    auto page = store().listRepositories(last, 1000);
    ASSERT_OK(page);
    if (page->empty()) break;
    ASSERT_LE(page->size(), 1000u);
    seen.insert(seen.end(), page->begin(), page->end());
    last = page->back();
  }
  EXPECT_EQ(seen, expected);
}

// --- uploads ---

TEST_P(MetaStoreContract, UploadLifecycle) {
  EXPECT_CODE(store().getUpload("u1"), Code::kBlobUploadUnknown);
  ASSERT_OK(store().createUpload(UploadRecord{"u1", "lib/app", 0, 100, 100}));
  EXPECT_FALSE(store().createUpload(UploadRecord{"u1", "other", 0, 1, 1}).ok());

  auto got = store().getUpload("u1");
  ASSERT_OK(got);
  EXPECT_EQ(got->id, "u1");
  EXPECT_EQ(got->repository, "lib/app");
  EXPECT_EQ(got->offset, 0u);
  EXPECT_EQ(got->created_at, 100);
  EXPECT_EQ(got->updated_at, 100);

  ASSERT_OK(store().updateUpload("u1", 4096, 150));
  got = store().getUpload("u1");
  ASSERT_OK(got);
  EXPECT_EQ(got->offset, 4096u);
  EXPECT_EQ(got->created_at, 100);
  EXPECT_EQ(got->updated_at, 150);
  EXPECT_CODE(store().updateUpload("nope", 1, 1), Code::kBlobUploadUnknown);

  ASSERT_OK(store().deleteUpload("u1"));
  EXPECT_CODE(store().getUpload("u1"), Code::kBlobUploadUnknown);
  ASSERT_OK(store().deleteUpload("u1"));  // absent is fine
  EXPECT_CODE(store().updateUpload("u1", 1, 1), Code::kBlobUploadUnknown);
}

TEST_P(MetaStoreContract, CountUploadsPerRepository) {
  auto count = [&](std::string_view repo) {
    auto n = store().countUploads(repo);
    EXPECT_TRUE(n.ok());
    return n.ok() ? *n : ~uint64_t{0};
  };
  EXPECT_EQ(count("a"), 0u);
  ASSERT_OK(store().createUpload(UploadRecord{"u1", "a", 0, 1, 1}));
  ASSERT_OK(store().createUpload(UploadRecord{"u2", "a", 0, 1, 1}));
  ASSERT_OK(store().createUpload(UploadRecord{"u3", "a/b", 0, 1, 1}));
  EXPECT_EQ(count("a"), 2u);
  EXPECT_EQ(count("a/b"), 1u);
  ASSERT_OK(store().deleteUpload("u1"));
  EXPECT_EQ(count("a"), 1u);
}

TEST_P(MetaStoreContract, CompleteUploadLinksBlobAndEndsSession) {
  const auto blob = digest("layer bytes");
  EXPECT_CODE(store().completeUpload("u1", blob, 11), Code::kBlobUploadUnknown);
  EXPECT_CODE(store().repositoryBlob("lib/app", blob), Code::kBlobUnknown);

  ASSERT_OK(store().createUpload(UploadRecord{"u1", "lib/app", 11, 1, 1}));
  ASSERT_OK(store().completeUpload("u1", blob, 11));
  auto size = store().repositoryBlob("lib/app", blob);
  ASSERT_OK(size);
  EXPECT_EQ(*size, 11u);
  EXPECT_CODE(store().getUpload("u1"), Code::kBlobUploadUnknown);
  EXPECT_CODE(store().completeUpload("u1", blob, 11), Code::kBlobUploadUnknown);
  auto exists = store().repositoryExists("lib/app");
  ASSERT_OK(exists);
  EXPECT_TRUE(*exists);
}

// --- manifests ---

TEST_P(MetaStoreContract, PutAndGetManifestKeepsBytesExactly) {
  auto req = manifest("a", "m", "v1");
  req.manifest.bytes = std::string("{\"a\":\x01\x00\xff  \n}", 11);  // not even UTF-8
  req.manifest.digest = digest(req.manifest.bytes);
  req.manifest.artifact_type = "application/vnd.example+type";
  ASSERT_OK(store().putManifest(req));
  auto got = store().getManifest("a", req.manifest.digest);
  ASSERT_OK(got);
  EXPECT_EQ(got->digest, req.manifest.digest);
  EXPECT_EQ(got->bytes, req.manifest.bytes);
  EXPECT_EQ(got->media_type, req.manifest.media_type);
  EXPECT_EQ(got->artifact_type, req.manifest.artifact_type);
  EXPECT_EQ(got->created_at, req.manifest.created_at);
  EXPECT_CODE(store().getManifest("b", req.manifest.digest), Code::kManifestUnknown);
  EXPECT_CODE(store().getManifest("a", digest("other")), Code::kManifestUnknown);
}

TEST_P(MetaStoreContract, PutManifestIsIdempotentAndKeepsCreatedAt) {
  auto req = manifest("a", "m");
  ASSERT_OK(store().putManifest(req));
  req.manifest.created_at = 1800000000;
  req.tag = "later";
  ASSERT_OK(store().putManifest(req));
  auto got = store().getManifest("a", req.manifest.digest);
  ASSERT_OK(got);
  EXPECT_EQ(got->created_at, 1700000000);
  auto tag = store().resolveTag("a", "later");
  ASSERT_OK(tag);
  EXPECT_EQ(*tag, req.manifest.digest);
}

TEST_P(MetaStoreContract, PutManifestWithLinkedBlobs) {
  const auto config = digest("config");
  const auto layer = digest("layer");
  ASSERT_OK(store().linkBlob("a", config, 6));
  ASSERT_OK(store().linkBlob("a", layer, 5));
  auto req = manifest("a", "image", "latest");
  req.blobs = {config, layer, layer};  // a layer may repeat
  ASSERT_OK(store().putManifest(req));
  ASSERT_OK(store().putManifest(req));
  ASSERT_OK(store().getManifest("a", req.manifest.digest));
}

TEST_P(MetaStoreContract, PutManifestMissingBlobNamesItAndWritesNothing) {
  const auto config = digest("config");
  const auto missing = digest("missing layer");
  const auto missing2 = digest("second missing layer");
  ASSERT_OK(store().linkBlob("a", config, 6));
  ASSERT_OK(store().linkBlob("elsewhere", missing, 1));  // linked, but not in "a"
  auto req = manifest("a", "image", "latest");
  req.blobs = {config, missing, missing2};
  req.subject = digest("subject");
  auto s = store().putManifest(req);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kManifestBlobUnknown);
  EXPECT_EQ(s.error().detail, detailFor(missing));

  EXPECT_CODE(store().getManifest("a", req.manifest.digest), Code::kManifestUnknown);
  EXPECT_CODE(store().resolveTag("a", "latest"), Code::kManifestUnknown);
  auto tags = store().listTags("a", "", 10);
  ASSERT_OK(tags);
  EXPECT_TRUE(tags->empty());
  auto refs = store().referrers("a", *req.subject, "");
  ASSERT_OK(refs);
  EXPECT_TRUE(refs->empty());

  // Into a repository that does not exist yet: it is not created either.
  auto fresh = manifest("new", "image", "latest");
  fresh.blobs = {config};
  s = store().putManifest(fresh);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kManifestBlobUnknown);
  EXPECT_EQ(s.error().detail, detailFor(config));
  auto exists = store().repositoryExists("new");
  ASSERT_OK(exists);
  EXPECT_FALSE(*exists);
}

TEST_P(MetaStoreContract, PutIndexNeedsItsChildManifestsInTheRepository) {
  auto child1 = manifest("a", "amd64");
  auto child2 = manifest("a", "arm64");
  ASSERT_OK(store().putManifest(child1));
  ASSERT_OK(store().putManifest(manifest("b", "arm64")));  // wrong repository
  auto index = manifest("a", "index", "latest");
  index.manifest.media_type = "application/vnd.oci.image.index.v1+json";
  index.manifests = {child1.manifest.digest, child2.manifest.digest};
  auto s = store().putManifest(index);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Code::kManifestBlobUnknown);
  EXPECT_EQ(s.error().detail, detailFor(child2.manifest.digest));
  EXPECT_CODE(store().resolveTag("a", "latest"), Code::kManifestUnknown);

  ASSERT_OK(store().putManifest(child2));
  ASSERT_OK(store().putManifest(index));
  auto tag = store().resolveTag("a", "latest");
  ASSERT_OK(tag);
  EXPECT_EQ(*tag, index.manifest.digest);
}

TEST_P(MetaStoreContract, DeleteManifestRemovesItsTagsOnly) {
  auto m1 = manifest("a", "one", "v1");
  auto m2 = manifest("a", "two", "v2");
  ASSERT_OK(store().putManifest(m1));
  ASSERT_OK(store().putManifest(m2));
  m1.tag = "also-one";
  ASSERT_OK(store().putManifest(m1));
  ASSERT_OK(store().linkBlob("a", digest("layer"), 1));

  ASSERT_OK(store().deleteManifest("a", m1.manifest.digest));
  EXPECT_CODE(store().getManifest("a", m1.manifest.digest), Code::kManifestUnknown);
  EXPECT_CODE(store().resolveTag("a", "v1"), Code::kManifestUnknown);
  EXPECT_CODE(store().resolveTag("a", "also-one"), Code::kManifestUnknown);
  auto tags = store().listTags("a", "", 10);
  ASSERT_OK(tags);
  EXPECT_EQ(*tags, std::vector<std::string>({"v2"}));
  ASSERT_OK(store().repositoryBlob("a", digest("layer")));  // blobs stay

  EXPECT_CODE(store().deleteManifest("a", m1.manifest.digest), Code::kManifestUnknown);
  EXPECT_CODE(store().deleteManifest("nope", m1.manifest.digest), Code::kManifestUnknown);
  ASSERT_OK(store().putManifest(m1));  // can be pushed again
  ASSERT_OK(store().getManifest("a", m1.manifest.digest));
}

TEST_P(MetaStoreContract, ManifestInTwoRepositoriesIsDeletedFromOneOnly) {
  ASSERT_OK(store().putManifest(manifest("a", "m", "t")));
  ASSERT_OK(store().putManifest(manifest("b", "m", "t")));
  const auto d = manifest("a", "m").manifest.digest;
  ASSERT_OK(store().deleteManifest("a", d));
  EXPECT_CODE(store().getManifest("a", d), Code::kManifestUnknown);
  ASSERT_OK(store().getManifest("b", d));
  auto tag = store().resolveTag("b", "t");
  ASSERT_OK(tag);
  EXPECT_EQ(*tag, d);
}

// --- tags ---

TEST_P(MetaStoreContract, TagMovesToTheNewManifest) {
  auto m1 = manifest("a", "one", "latest");
  auto m2 = manifest("a", "two", "latest");
  ASSERT_OK(store().putManifest(m1));
  auto tag = store().resolveTag("a", "latest");
  ASSERT_OK(tag);
  EXPECT_EQ(*tag, m1.manifest.digest);
  ASSERT_OK(store().putManifest(m2));
  tag = store().resolveTag("a", "latest");
  ASSERT_OK(tag);
  EXPECT_EQ(*tag, m2.manifest.digest);
  ASSERT_OK(store().getManifest("a", m1.manifest.digest));  // the old one stays, untagged
  auto tags = store().listTags("a", "", 10);
  ASSERT_OK(tags);
  EXPECT_EQ(*tags, std::vector<std::string>({"latest"}));
  EXPECT_CODE(store().resolveTag("b", "latest"), Code::kManifestUnknown);
}

TEST_P(MetaStoreContract, DeleteTagKeepsTheManifest) {
  auto m = manifest("a", "one", "v1");
  ASSERT_OK(store().putManifest(m));
  ASSERT_OK(store().deleteTag("a", "v1"));
  EXPECT_CODE(store().resolveTag("a", "v1"), Code::kManifestUnknown);
  ASSERT_OK(store().getManifest("a", m.manifest.digest));
  EXPECT_CODE(store().deleteTag("a", "v1"), Code::kManifestUnknown);
  EXPECT_CODE(store().deleteTag("nope", "v1"), Code::kManifestUnknown);
  auto tags = store().listTags("a", "", 10);
  ASSERT_OK(tags);  // the repository still exists, with no tags
  EXPECT_TRUE(tags->empty());
}

TEST_P(MetaStoreContract, ListTagsOfUnknownAndEmptyRepositories) {
  EXPECT_CODE(store().listTags("nope", "", 10), Code::kNameUnknown);
  ASSERT_OK(store().linkBlob("blobs-only", digest("x"), 1));
  auto tags = store().listTags("blobs-only", "", 10);
  ASSERT_OK(tags);
  EXPECT_TRUE(tags->empty());
}

TEST_P(MetaStoreContract, ListTagsPagesInByteOrder) {
  const std::vector<std::string> names = {"v1.9", "v1.10", "latest", "Latest", "1.0",
                                          "a_b",  "a-b",   "a.b",    "LATEST"};
  for (const auto& n : names) ASSERT_OK(store().putManifest(manifest("a", n, n)));
  ASSERT_OK(store().putManifest(manifest("b", "other", "aaa")));  // another repository
  std::vector<std::string> expected = names;
  std::sort(expected.begin(), expected.end());
  auto all = store().listTags("a", "", 100);
  ASSERT_OK(all);
  EXPECT_EQ(*all, expected);
  EXPECT_LT(std::find(all->begin(), all->end(), "v1.10"),
            std::find(all->begin(), all->end(), "v1.9"));

  std::vector<std::string> paged;
  std::string last;
  for (;;) {
    auto page = store().listTags("a", last, 2);
    ASSERT_OK(page);
    if (page->empty()) break;
    ASSERT_LE(page->size(), 2u);
    paged.insert(paged.end(), page->begin(), page->end());
    last = page->back();
  }
  EXPECT_EQ(paged, expected);
  auto zero = store().listTags("a", "", 0);
  ASSERT_OK(zero);
  EXPECT_TRUE(zero->empty());
  auto after = store().listTags("a", "latest", 100);  // strictly after `last`
  ASSERT_OK(after);
  EXPECT_EQ(*after, std::vector<std::string>({"v1.10", "v1.9"}));
}

TEST_P(MetaStoreContract, ListTenThousandTagsPageByPage) {
  constexpr int kCount = 10000;
  auto req = manifest("big", "m");
  std::vector<std::string> expected;
  for (int i = 0; i < kCount; ++i) {
    req.tag = "tag-" + std::to_string(i);
    expected.push_back(*req.tag);
    ASSERT_OK(store().putManifest(req));
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> seen;
  std::string last;
  for (;;) {
    auto page = store().listTags("big", last, 100);
    ASSERT_OK(page);
    if (page->empty()) break;
    ASSERT_LE(page->size(), 100u);
    seen.insert(seen.end(), page->begin(), page->end());
    last = page->back();
  }
  EXPECT_EQ(seen, expected);
}

// --- referrers ---

TEST_P(MetaStoreContract, ReferrersOfASubjectFilteredByArtifactType) {
  const auto subject = manifest("a", "subject").manifest.digest;  // not pushed yet
  auto sig = manifest("a", "signature");
  sig.subject = subject;
  sig.manifest.artifact_type = "application/vnd.example.signature";
  sig.annotations_json = R"({"org.example":"yes"})";
  auto sbom = manifest("a", "sbom");
  sbom.subject = subject;
  sbom.manifest.artifact_type = "application/vnd.example.sbom";
  auto unrelated = manifest("a", "unrelated");
  unrelated.subject = digest("another subject");
  auto elsewhere = manifest("b", "signature");
  elsewhere.subject = subject;
  for (const auto* r : {&sig, &sbom, &unrelated, &elsewhere}) ASSERT_OK(store().putManifest(*r));

  auto all = store().referrers("a", subject, "");
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_LT((*all)[0].digest, (*all)[1].digest);
  auto find = [&](const oci::Digest& d) {
    return std::find_if(all->begin(), all->end(), [&](const auto& r) { return r.digest == d; });
  };
  auto s = find(sig.manifest.digest);
  ASSERT_NE(s, all->end());
  EXPECT_EQ(s->media_type, sig.manifest.media_type);
  EXPECT_EQ(s->artifact_type, sig.manifest.artifact_type);
  EXPECT_EQ(s->size, sig.manifest.bytes.size());
  EXPECT_EQ(s->annotations_json, sig.annotations_json);
  ASSERT_NE(find(sbom.manifest.digest), all->end());
  EXPECT_EQ(find(sbom.manifest.digest)->annotations_json, "");

  auto sigs = store().referrers("a", subject, "application/vnd.example.signature");
  ASSERT_OK(sigs);
  ASSERT_EQ(sigs->size(), 1u);
  EXPECT_EQ((*sigs)[0].digest, sig.manifest.digest);
  auto none = store().referrers("a", subject, "application/vnd.example.none");
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
  auto unknown_repo = store().referrers("nope", subject, "");
  ASSERT_OK(unknown_repo);
  EXPECT_TRUE(unknown_repo->empty());

  // Pushing the subject later changes nothing; deleting a referrer removes it.
  ASSERT_OK(store().putManifest(manifest("a", "subject")));
  ASSERT_OK(store().deleteManifest("a", sig.manifest.digest));
  all = store().referrers("a", subject, "");
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].digest, sbom.manifest.digest);
}

// --- durability and concurrency ---

TEST_P(MetaStoreContract, DataSurvivesReopen) {
  ASSERT_OK(store().linkBlob("a", digest("layer"), 5));
  auto m = manifest("a", "m", "v1");
  m.blobs = {digest("layer")};
  m.subject = digest("subject");
  ASSERT_OK(store().putManifest(m));
  ASSERT_OK(store().createUpload(UploadRecord{"u1", "a", 7, 1, 2}));
  reopen();
  auto size = store().repositoryBlob("a", digest("layer"));
  ASSERT_OK(size);
  EXPECT_EQ(*size, 5u);
  auto got = store().getManifest("a", m.manifest.digest);
  ASSERT_OK(got);
  EXPECT_EQ(got->bytes, m.manifest.bytes);
  auto tag = store().resolveTag("a", "v1");
  ASSERT_OK(tag);
  EXPECT_EQ(*tag, m.manifest.digest);
  auto refs = store().referrers("a", *m.subject, "");
  ASSERT_OK(refs);
  EXPECT_EQ(refs->size(), 1u);
  auto upload = store().getUpload("u1");
  ASSERT_OK(upload);
  EXPECT_EQ(upload->offset, 7u);
  auto repos = store().listRepositories("", 10);
  ASSERT_OK(repos);
  EXPECT_EQ(*repos, std::vector<std::string>({"a"}));
}

TEST_P(MetaStoreContract, ConcurrentPushResolveAndList) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 60;
  std::atomic<int> failures{0};
  std::mutex first_error_mutex;
  std::string first_error;
  auto fail = [&](const Error& e) {
    if (failures++ == 0) {
      std::lock_guard lock(first_error_mutex);
      first_error = e.message;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        // Appended piecewise: "t" + std::to_string() trips GCC 12's -Wrestrict false positive.
        std::string own = std::to_string(t);
        own.insert(0, 1, 't').append("-").append(std::to_string(i));
        // Every thread also moves the shared "latest" tag.
        for (const auto& tag : {own, std::string("latest")}) {
          if (auto s = store().putManifest(manifest("shared", own, tag)); !s) fail(s.error());
        }
        if (auto r = store().resolveTag("shared", own); !r) fail(r.error());
        if (auto r = store().resolveTag("shared", "latest"); !r) fail(r.error());
        if (auto r = store().listTags("shared", "", 1000); !r) fail(r.error());
        if (auto r = store().listRepositories("", 10); !r) fail(r.error());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0) << first_error;
  auto tags = store().listTags("shared", "", 10000);
  ASSERT_OK(tags);
  EXPECT_EQ(tags->size(), static_cast<size_t>(kThreads * kRounds + 1));
}

}  // namespace
}  // namespace berth::meta::testing
