// The route table: every row reachable by its own pattern, admin and token routes with
// their parameters, and the facts a row gives (methods, access, labels).
#include "api/routes.h"

#include <gtest/gtest.h>

#include <set>

namespace berth::api {
namespace {

TEST(RouteTable, EveryKindHasOneRowAndRowsAreDistinct) {
  std::set<RouteKind> kinds;
  std::set<std::string_view> patterns;
  for (const RouteRow& row : routeTable()) {
    EXPECT_TRUE(kinds.insert(row.kind).second) << row.pattern;
    EXPECT_TRUE(patterns.insert(row.pattern).second) << row.pattern;
    EXPECT_EQ(&routeRow(row.kind), &row) << row.pattern;
    EXPECT_NE(row.methods, 0) << row.pattern;
    // A row has exactly one handler: a coroutine, or an admin operation.
    EXPECT_NE(row.handler == nullptr, row.admin == nullptr) << row.pattern;
  }
}

// Each row's pattern, with sample parameters, routes back to the row.
TEST(RouteTable, EveryPatternRoutesToItsRow) {
  for (const RouteRow& row : routeTable()) {
    std::string path;
    std::string_view p = row.pattern;
    for (size_t start = 1; start <= p.size();) {
      auto slash = p.find('/', start);
      auto seg = p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
      if (seg.empty()) break;
      path += '/';
      if (seg == "{name}") {
        path += "team/app";
      } else if (seg == "{ref}" || seg == "{id}") {
        path += "x1";
      } else if (seg == "{pattern}") {
        path += "team/*";
      } else {
        path += seg;
      }
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    auto r = parseRoute(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->kind, row.kind) << path;
  }
}

TEST(RouteTable, AdminRoutesCarryTheirIds) {
  auto r = parseRoute("/api/v1/tokens/ci-pull/credentials/password2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kAdminTokenCredential);
  EXPECT_EQ(r->ref, "ci-pull");
  EXPECT_EQ(r->ref2, "password2");
  r = parseRoute("/api/v1/users/alice/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kAdminUser);
  EXPECT_EQ(r->ref, "alice");
  r = parseRoute("/api/v1/users");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kAdminUsers);
  // A quota pattern is the rest of the path, one encoded segment or several plain ones.
  r = parseRoute("/api/v1/quotas/team-a%2F*");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kAdminQuota);
  EXPECT_EQ(r->ref, "team-a/*");
  r = parseRoute("/api/v1/quotas/team-a/*");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ref, "team-a/*");
  r = parseRoute("/api/v1/usage/repositories/team%2Fapp");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, RouteKind::kAdminRepositoryUsage);
  EXPECT_EQ(r->name, "team/app");
  EXPECT_EQ(parseRoute("/api/v1/usage/repositories/..%2Fx").code(), Code::kNameInvalid);
  EXPECT_EQ(parseRoute("/api/v1/recycle-bin/7/restore")->kind, RouteKind::kAdminRecycleRestore);
  EXPECT_EQ(parseRoute("/api/v1/recycle-bin/7")->kind, RouteKind::kAdminRecycleItem);
  EXPECT_EQ(parseRoute("/oauth2/token")->kind, RouteKind::kOauthToken);
  EXPECT_EQ(parseRoute("/oauth2/exchange")->kind, RouteKind::kOauthExchange);
  EXPECT_EQ(parseRoute("/api/v1/nope").code(), Code::kRouteUnknown);
  EXPECT_EQ(parseRoute("/api/v1/users/a/b").code(), Code::kRouteUnknown);
  EXPECT_EQ(parseRoute("/oauth2/token/x").code(), Code::kRouteUnknown);
}

TEST(RouteTable, MethodsAndAllowHeader) {
  const RouteRow& manifest = routeRow(RouteKind::kManifest);
  EXPECT_EQ(allowedMethods(manifest.methods), "GET, HEAD, PUT, DELETE");
  EXPECT_EQ(methodBit("PATCH") & manifest.methods, 0);
  EXPECT_EQ(methodBit("BREW"), 0);
  EXPECT_EQ(allowedMethods(routeRow(RouteKind::kUploadStart).methods), "POST");
  EXPECT_EQ(allowedMethods(routeRow(RouteKind::kAdminFederatedIdentity).methods), "GET, DELETE");
}

TEST(RouteTable, AdminRoutesNeedTheOwnerOrAnIdentity) {
  for (const RouteRow& row : routeTable()) {
    if (row.label != metrics::RouteLabel::kAdmin) continue;
    for (const char* m : {"GET", "POST", "DELETE", "BREW"}) {
      const auto kind = row.needs.of(m).kind;
      EXPECT_TRUE(kind == Requirement::Kind::kOwner || kind == Requirement::Kind::kIdentity) << row.pattern;
    }
    EXPECT_EQ(row.audit.of("PUT").action, "config") << row.pattern;
  }
  EXPECT_EQ(routeRow(RouteKind::kAdminUsage).needs.read.kind, Requirement::Kind::kIdentity);
  EXPECT_EQ(routeRow(RouteKind::kAdminRecycleRestore).needs.write.kind, Requirement::Kind::kIdentity);
  EXPECT_EQ(routeRow(RouteKind::kAdminGc).needs.write.kind, Requirement::Kind::kOwner);
}

}  // namespace
}  // namespace berth::api
