#include "api/router.h"

#include <gtest/gtest.h>

namespace berth::api {
namespace {

TEST(Router, BaseAndHealth) {
  EXPECT_EQ(parseRoute("/v2/")->kind, RouteKind::kBase);
  EXPECT_EQ(parseRoute("/v2")->kind, RouteKind::kBase);
  EXPECT_EQ(parseRoute("/healthz")->kind, RouteKind::kHealthz);
  EXPECT_EQ(parseRoute("/readyz")->kind, RouteKind::kReadyz);
  EXPECT_EQ(parseRoute("/metrics")->kind, RouteKind::kMetrics);
  EXPECT_EQ(parseRoute("/v2/_catalog")->kind, RouteKind::kCatalog);
}

TEST(Router, NestedNames) {
  auto r = parseRoute("/v2/team/app/web/manifests/v1.2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kManifest);
  EXPECT_EQ(r->name, "team/app/web");
  EXPECT_EQ(r->ref, "v1.2");
  r = parseRoute("/v2/a/tags/list");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kTags);
  EXPECT_EQ(r->name, "a");
  r = parseRoute("/v2/a/b/referrers/sha256:abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kReferrers);
  EXPECT_EQ(r->name, "a/b");
}

TEST(Router, NamesThatLookLikeRouteWords) {
  // A repository may itself be called "blobs", "manifests" or "uploads".
  auto r = parseRoute("/v2/blobs/blobs/sha256:abc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kBlob);
  EXPECT_EQ(r->name, "blobs");
  r = parseRoute("/v2/x/manifests/manifests/latest");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kManifest);
  EXPECT_EQ(r->name, "x/manifests");
  r = parseRoute("/v2/uploads/blobs/uploads/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kUploadStart);
  EXPECT_EQ(r->name, "uploads");
}

TEST(Router, Uploads) {
  auto r = parseRoute("/v2/a/blobs/uploads/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kUploadStart);
  r = parseRoute("/v2/a/blobs/uploads");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kUploadStart);
  r = parseRoute("/v2/a/blobs/uploads/1234-abcd");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kUpload);
  EXPECT_EQ(r->ref, "1234-abcd");
}

TEST(Router, RefusesBadNamesAndTraversal) {
  for (const char* p : {"/v2/../etc/blobs/sha256:abc", "/v2/a/../b/manifests/x", "/v2/A/manifests/x",
                        "/v2//manifests/x", "/v2/a//b/manifests/x", "/v2/%2e%2e/manifests/x",
                        "/v2/a%2f..%2fb/tags/list", "/v2/./manifests/x", "/v2/a%00b/tags/list",
                        "/v2/a%2/tags/list"}) {
    auto r = parseRoute(p);
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.code(), Code::kNameInvalid) << p;
  }
}

// The Azure SDK percent-encodes a namespaced name as one segment and a digest's colon.
TEST(Router, DecodesPercentEncodedSegments) {
  auto r = parseRoute("/v2/team%2Fapp/blobs/sha256%3Aabc");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kBlob);
  EXPECT_EQ(r->name, "team/app");
  EXPECT_EQ(r->ref, "sha256:abc");
  r = parseRoute("/v2/a%2fb/tags/list");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "a/b");
  // A reference can not get a '/' or '%' through an escape.
  for (const char* p : {"/v2/a/manifests/x%2Fy", "/v2/a/blobs/uploads/..%2F..%2Fx", "/v2/a/manifests/x%25"}) {
    r = parseRoute(p);
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.code(), Code::kNameInvalid) << p;
  }
}

// ACR's metadata API: the name is everything before _tags / _manifests (no name
// component starts with '_'), or the whole rest for the repository itself.
TEST(Router, AcrMetadataRoutes) {
  struct Case {
    const char* path;
    RouteKind kind;
    const char* name;
    const char* ref;
  };
  for (const Case& c : {Case{"/acr/v1/_catalog", RouteKind::kAcrCatalog, "", ""},
                        Case{"/acr/v1/app", RouteKind::kAcrRepository, "app", ""},
                        Case{"/acr/v1/team/app", RouteKind::kAcrRepository, "team/app", ""},
                        Case{"/acr/v1/team%2Fapp", RouteKind::kAcrRepository, "team/app", ""},
                        Case{"/acr/v1/team/app/_tags", RouteKind::kAcrTags, "team/app", ""},
                        Case{"/acr/v1/team/app/_tags/v1.0", RouteKind::kAcrTag, "team/app", "v1.0"},
                        Case{"/acr/v1/team%2Fapp/_tags/latest", RouteKind::kAcrTag, "team/app", "latest"},
                        Case{"/acr/v1/tags/_manifests", RouteKind::kAcrManifests, "tags", ""},
                        Case{"/acr/v1/a/_manifests/sha256%3Aabc", RouteKind::kAcrManifest, "a", "sha256:abc"}}) {
    auto r = parseRoute(c.path);
    ASSERT_TRUE(r) << c.path << ": " << r.error().message;
    EXPECT_EQ(r->kind, c.kind) << c.path;
    EXPECT_EQ(r->name, c.name) << c.path;
    EXPECT_EQ(r->ref, c.ref) << c.path;
  }
  for (const char* p : {"/acr/v1/_tags", "/acr/v1/a/_other", "/acr/v1/A", "/acr/v1/a/../b",
                        "/acr/v1/a/_tags/x%2Fy", "/acr/v1/a/_manifests/x%25"}) {
    auto r = parseRoute(p);
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.code(), Code::kNameInvalid) << p;
  }
  for (const char* p : {"/acr/v1/", "/acr/v2/a", "/acr/v1"}) {
    auto r = parseRoute(p);
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.code(), Code::kRouteUnknown) << p;
  }
}

// ACR's soft-delete routes: /acr/v1/_deleted/... is matched before the /acr/v1/<name>
// forms; "_deleted" is no repository name.
TEST(Router, AcrDeletedRoutes) {
  struct Case {
    const char* path;
    RouteKind kind;
    const char* name;
    const char* ref;
  };
  for (const Case& c : {Case{"/acr/v1/_deleted/_catalog", RouteKind::kAcrDeletedCatalog, "", ""},
                        Case{"/acr/v1/_deleted/app/_manifests", RouteKind::kAcrDeletedManifests, "app", ""},
                        Case{"/acr/v1/_deleted/team/app/_tags", RouteKind::kAcrDeletedTags, "team/app", ""},
                        Case{"/acr/v1/_deleted/team%2Fapp/_tags", RouteKind::kAcrDeletedTags, "team/app", ""},
                        Case{"/acr/v1/_deleted/team/app/_manifests/sha256:abc", RouteKind::kAcrDeletedManifest,
                             "team/app", "sha256:abc"},
                        Case{"/acr/v1/_deleted/a/_manifests/sha256%3Aabc", RouteKind::kAcrDeletedManifest, "a",
                             "sha256:abc"},
                        // Not under _deleted: the ordinary forms.
                        Case{"/acr/v1/deleted/_tags", RouteKind::kAcrTags, "deleted", ""}}) {
    auto r = parseRoute(c.path);
    ASSERT_TRUE(r) << c.path << ": " << r.error().message;
    EXPECT_EQ(r->kind, c.kind) << c.path;
    EXPECT_EQ(r->name, c.name) << c.path;
    EXPECT_EQ(r->ref, c.ref) << c.path;
  }
  for (const char* p : {"/acr/v1/_deleted/", "/acr/v1/_deleted/app", "/acr/v1/_deleted/app/_tags/v1",
                        "/acr/v1/_deleted/_catalog/x", "/acr/v1/_deleted/a/_manifests/d/x"}) {
    auto r = parseRoute(p);
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.code(), Code::kRouteUnknown) << p;
  }
  // The name grammar still applies ("_catalog" is no name either).
  for (const char* p : {"/acr/v1/_deleted", "/acr/v1/_deleted/A/_tags", "/acr/v1/_deleted/a/_manifests/x%2Fy",
                        "/acr/v1/_deleted/_catalog/_manifests"}) {
    auto r = parseRoute(p);
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.code(), Code::kNameInvalid) << p;
  }
}

TEST(Router, UnknownRoutes) {
  for (const char* p : {"/", "/v3/", "/v2/a", "/v2/a/b", "/v2/a/unknown/x", "/etc/passwd", ""}) {
    auto r = parseRoute(p);
    ASSERT_FALSE(r) << p;
    EXPECT_EQ(r.code(), Code::kRouteUnknown) << p;
  }
}

TEST(Query, DecodesAndSplits) {
  auto q = parseQuery("n=10&last=a%2Fb&artifactType=application/vnd.example+json&flag");
  ASSERT_TRUE(q);
  EXPECT_EQ(queryValue(*q, "n"), "10");
  EXPECT_EQ(queryValue(*q, "last"), "a/b");
  EXPECT_EQ(queryValue(*q, "artifactType"), "application/vnd.example+json");
  EXPECT_EQ(queryValue(*q, "flag"), "");
  EXPECT_FALSE(queryValue(*q, "missing"));
  EXPECT_TRUE(parseQuery("")->empty());
}

TEST(Query, MalformedPercentEncoding) {
  for (const char* q : {"a=%", "a=%4", "a=%zz", "%=1"}) {
    auto r = parseQuery(q);
    EXPECT_FALSE(r) << q;
  }
}

TEST(Target, Split) {
  auto [p, q] = splitTarget("/v2/a/tags/list?n=1");
  EXPECT_EQ(p, "/v2/a/tags/list");
  EXPECT_EQ(q, "n=1");
  auto [p2, q2] = splitTarget("/v2/");
  EXPECT_EQ(p2, "/v2/");
  EXPECT_EQ(q2, "");
}

}  // namespace
}  // namespace berth::api
