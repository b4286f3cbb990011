#include "api/access.h"

#include <gtest/gtest.h>

namespace berth::api {
namespace {
using K = Requirement::Kind;

TEST(RequirementFor, OpenProbes) {
  for (RouteKind r : {RouteKind::kHealthz, RouteKind::kReadyz}) {
    for (const char* m : {"GET", "HEAD", "POST"}) {
      Requirement req = requirementFor(r, m);
      EXPECT_EQ(req.kind, K::kNone) << m;
      EXPECT_EQ(req.any_of, 0);
      EXPECT_TRUE(req.actions.empty());
    }
  }
}

TEST(RequirementFor, MetricsNeedMetadataReadOnEverything) {
  for (const char* m : {"GET", "HEAD"}) {
    Requirement req = requirementFor(RouteKind::kMetrics, m);
    EXPECT_EQ(req.kind, K::kMetrics) << m;
    EXPECT_EQ(req.any_of, auth::kPermMetadataRead);
  }
}

TEST(RequirementFor, BaseAndCatalogNeedAnIdentityOnly) {
  EXPECT_EQ(requirementFor(RouteKind::kBase, "GET").kind, K::kAuthenticated);
  EXPECT_EQ(requirementFor(RouteKind::kBase, "GET").any_of, 0);
  EXPECT_EQ(requirementFor(RouteKind::kCatalog, "GET").kind, K::kCatalog);
  EXPECT_EQ(requirementFor(RouteKind::kCatalog, "GET").any_of, 0);
}

TEST(RequirementFor, TagsAndReferrersAreReads) {
  Requirement tags = requirementFor(RouteKind::kTags, "GET");
  EXPECT_EQ(tags.kind, K::kRepository);
  EXPECT_EQ(tags.any_of, auth::kPermPull | auth::kPermMetadataRead);
  EXPECT_EQ(tags.actions, "pull");
  Requirement refs = requirementFor(RouteKind::kReferrers, "GET");
  EXPECT_EQ(refs.kind, K::kRepository);
  EXPECT_EQ(refs.any_of, auth::kPermPull);
  EXPECT_EQ(refs.actions, "pull");
}

TEST(RequirementFor, AcrMetadataByMethod) {
  EXPECT_EQ(requirementFor(RouteKind::kAcrCatalog, "GET").kind, K::kCatalog);
  for (RouteKind r : {RouteKind::kAcrRepository, RouteKind::kAcrTags, RouteKind::kAcrTag, RouteKind::kAcrManifests,
                      RouteKind::kAcrManifest}) {
    Requirement read = requirementFor(r, "GET");
    EXPECT_EQ(read.kind, K::kRepository);
    EXPECT_EQ(read.any_of, auth::kPermPull | auth::kPermMetadataRead);
    EXPECT_EQ(read.actions, "metadata_read,pull");
    EXPECT_EQ(requirementFor(r, "PATCH").any_of, auth::kPermMetadataWrite);
    EXPECT_EQ(requirementFor(r, "PATCH").actions, "metadata_write");
    EXPECT_EQ(requirementFor(r, "DELETE").any_of, auth::kPermDelete);
    // Methods the handler refuses later still need a write permission first.
    EXPECT_EQ(requirementFor(r, "POST").any_of, auth::kPermMetadataWrite);
  }
}

TEST(RequirementFor, AcrDeletedRoutes) {
  Requirement catalog = requirementFor(RouteKind::kAcrDeletedCatalog, "GET");
  EXPECT_EQ(catalog.kind, K::kDeletedCatalog);
  EXPECT_EQ(challengeScope(catalog, ""), "registry:deleted_catalog:*");
  for (RouteKind r : {RouteKind::kAcrDeletedManifests, RouteKind::kAcrDeletedTags, RouteKind::kAcrDeletedManifest}) {
    Requirement read = requirementFor(r, "GET");
    EXPECT_EQ(read.kind, K::kRepository);
    EXPECT_EQ(read.any_of, auth::kPermDeletedRead);
    EXPECT_EQ(challengeScope(read, "team/app"), "repository:team/app:deleted_read");
  }
  Requirement restore = requirementFor(RouteKind::kAcrDeletedManifest, "POST");
  EXPECT_EQ(restore.kind, K::kRepository);
  EXPECT_EQ(restore.any_of, auth::kPermDeletedRestore);
  EXPECT_EQ(challengeScope(restore, "team/app"), "repository:team/app:deleted_read,deleted_restore");
}

TEST(RequirementFor, ManifestsAndBlobsByMethod) {
  for (RouteKind r : {RouteKind::kManifest, RouteKind::kBlob}) {
    for (const char* m : {"GET", "HEAD"}) {
      Requirement req = requirementFor(r, m);
      EXPECT_EQ(req.kind, K::kRepository);
      EXPECT_EQ(req.any_of, auth::kPermPull) << m;
      EXPECT_EQ(req.actions, "pull");
    }
    Requirement del = requirementFor(r, "DELETE");
    EXPECT_EQ(del.kind, K::kRepository);
    EXPECT_EQ(del.any_of, auth::kPermDelete);
    EXPECT_EQ(del.actions, "delete");
    // PUT, and methods the handler refuses later, need push.
    for (const char* m : {"PUT", "POST", "PATCH", "OPTIONS", "get", "BREW"}) {
      Requirement req = requirementFor(r, m);
      EXPECT_EQ(req.kind, K::kRepository) << m;
      EXPECT_EQ(req.any_of, auth::kPermPush) << m;
      EXPECT_EQ(req.actions, "pull,push") << m;
    }
  }
}

TEST(RequirementFor, UploadsNeedPushWhateverTheMethod) {
  for (RouteKind r : {RouteKind::kUploadStart, RouteKind::kUpload}) {
    for (const char* m : {"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"}) {
      Requirement req = requirementFor(r, m);
      EXPECT_EQ(req.kind, K::kRepository) << m;
      EXPECT_EQ(req.any_of, auth::kPermPush) << m;
      EXPECT_EQ(req.actions, "pull,push") << m;
    }
  }
}

TEST(BearerChallenge, RealmAndServiceOnly) {
  EXPECT_EQ(bearerChallenge("https://r.example/oauth2/token", "r.example", "", ""),
            R"(Bearer realm="https://r.example/oauth2/token",service="r.example")");
}

TEST(BearerChallenge, WithScope) {
  EXPECT_EQ(bearerChallenge("https://r/token", "r", "repository:team/app:pull,push", ""),
            R"(Bearer realm="https://r/token",service="r",scope="repository:team/app:pull,push")");
}

TEST(BearerChallenge, WithError) {
  EXPECT_EQ(bearerChallenge("https://r/token", "r", "", "invalid_token"),
            R"(Bearer realm="https://r/token",service="r",error="invalid_token")");
}

TEST(BearerChallenge, WithScopeAndError) {
  EXPECT_EQ(
      bearerChallenge("https://r/token", "r", "repository:a:pull", "insufficient_scope"),
      R"(Bearer realm="https://r/token",service="r",scope="repository:a:pull",error="insufficient_scope")");
}

}  // namespace
}  // namespace berth::api
