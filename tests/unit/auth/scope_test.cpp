#include "auth/scope.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::auth {
namespace {
namespace json = boost::json;

using Actions = std::vector<std::string>;

TEST(RepositoryName, ValidNames) {
  for (const char* n : {"a", "app", "team/app", "a/b/c/d", "my.org/app", "a_b", "a__b", "a-b",
                        "a---b", "a.b-c_d__e", "0", "library/ubuntu", "localhost/app", "x9/y8"}) {
    EXPECT_TRUE(isValidRepositoryName(n)) << n;
  }
  EXPECT_TRUE(isValidRepositoryName(std::string(255, 'a')));
}

TEST(RepositoryName, InvalidNames) {
  for (const char* n : {"",       "/",        "a/",   "/a",    "a//b",
                        "A",      "Team/app", "a..b", "a___b", "a._b",
                        "a-_b",   ".a",       "a.",   "-a",    "a-",
                        "_a",     "a_",       "a b",  "a:b",   "localhost:5000/app",
                        "a/../b", "a/./b",    "..",   "a\tb",  "a*",
                        "*"}) {
    EXPECT_FALSE(isValidRepositoryName(n)) << n;
  }
  EXPECT_FALSE(isValidRepositoryName(std::string(256, 'a')));
  EXPECT_FALSE(isValidRepositoryName(std::string("a\0b", 3)));
}

TEST(ParseScope, RepositoryScopes) {
  auto s = parseScope("repository:team/app:pull,push");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->type, "repository");
  EXPECT_EQ(s->name, "team/app");
  EXPECT_EQ(s->actions, (Actions{"pull", "push"}));
  s = parseScope("repository:a/b/c:*");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->actions, (Actions{"*"}));
  s = parseScope("repository:app:delete,metadata_read,metadata_write,pull");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->actions, (Actions{"delete", "metadata_read", "metadata_write", "pull"}));
  s = parseScope("repository:app:pull,pull,push,pull");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->actions, (Actions{"pull", "push"}));
  s = parseScope("repository(plugin):team/app:pull");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->type, "repository(plugin)");
}

TEST(ParseScope, RegistryCatalog) {
  auto s = parseScope("registry:catalog:*");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->type, "registry");
  EXPECT_EQ(s->name, "catalog");
  EXPECT_EQ(s->actions, (Actions{"*"}));
  EXPECT_FALSE(parseScope("registry:other:*").ok());
  EXPECT_FALSE(parseScope("registry::*").ok());
}

TEST(ParseScope, AcrSoftDeleteScopes) {
  auto s = parseScope("registry:deleted_catalog:*");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->name, "deleted_catalog");
  s = parseScope("repository:team/app:deleted_read,deleted_restore");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->actions, (Actions{"deleted_read", "deleted_restore"}));
  EXPECT_FALSE(parseScope("repository:team/app:deleted_purge").ok());
  EXPECT_FALSE(parseScope("registry:deleted:*").ok());
}

TEST(ParseScope, Invalid) {
  for (const char* bad : {"",
                          "repository",
                          "repository:app",
                          "repository::pull",
                          "repository:app:",
                          "repository:app:pull,",
                          "repository:app:,pull",
                          "repository:app:pull,,push",
                          "repository:app:PULL",
                          "repository:app:pull push",
                          "repository:app:read",
                          "repository:app:pull;push",
                          ":app:pull",
                          "Repository:app:pull",
                          "repo sitory:app:pull",
                          "repository(:app:pull",
                          "repository():app:pull",
                          "repository(x:app:pull",
                          "repository:App:pull",
                          "repository:localhost:5000/app:pull",
                          "repository:app/:pull",
                          "repository:a//b:pull",
                          "repository:../etc:pull",
                          "repository:team-a/*:pull",
                          "repository:*:pull",
                          "repository:app:pull\n",
                          "repository:app\t:pull"}) {
    auto s = parseScope(bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_EQ(s.code(), Code::kInvalidArgument);
    }
  }
}

TEST(ParseScope, ErrorsDoNotEchoInput) {
  auto s = parseScope("repository:SECRETNAME:pull");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message.find("SECRETNAME"), std::string::npos);
}

TEST(ParseScope, OtherResourceTypesParseGenerically) {
  auto s = parseScope("artifact:some/Thing_1.0:pull");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->type, "artifact");
  EXPECT_EQ(s->name, "some/Thing_1.0");
  EXPECT_FALSE(parseScope("artifact:a b:pull").ok());
}

TEST(ParseScopes, SeveralMergedAndSpaces) {
  auto s = parseScopes(
      "repository:a:pull registry:catalog:*  repository:b:push repository:a:push,pull ");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0], (ResourceScope{"repository", "a", {"pull", "push"}}));
  EXPECT_EQ((*s)[1], (ResourceScope{"registry", "catalog", {"*"}}));
  EXPECT_EQ((*s)[2], (ResourceScope{"repository", "b", {"push"}}));
}

TEST(ParseScopes, EmptyMeansNoAccess) {
  auto s = parseScopes("");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->empty());
  s = parseScopes("   ");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->empty());
}

TEST(ParseScopes, OneBadScopeFailsAll) {
  EXPECT_EQ(parseScopes("repository:a:pull repository:B:pull").code(), Code::kInvalidArgument);
  EXPECT_FALSE(parseScopes("repository:a:pull\trepository:b:pull").ok());
  EXPECT_FALSE(parseScopes("repository:a:pull\nrepository:b:pull").ok());
}

TEST(ParseScopes, Limits) {
  std::string many;
  for (size_t i = 0; i < kMaxScopes; ++i) many += "repository:r" + std::to_string(i) + ":pull ";
  auto ok = parseScopes(many);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), kMaxScopes);
  EXPECT_FALSE(parseScopes(many + "repository:x:pull").ok());
  // Repeats of the same scope count too: the limit is on work, not on distinct results.
  std::string repeats;
  for (size_t i = 0; i <= kMaxScopes; ++i) repeats += "repository:a:pull ";
  EXPECT_FALSE(parseScopes(repeats).ok());
  EXPECT_FALSE(parseScopes(std::string(kMaxScopeBytes + 1, ' ')).ok());
  std::string long_name = "repository:" + std::string(256, 'a') + ":pull";
  EXPECT_FALSE(parseScopes(long_name).ok());
}

TEST(FormatScope, RoundTrips) {
  for (const char* s :
       {"repository:team/app:pull,push", "registry:catalog:*", "repository(plugin):x:pull"}) {
    auto parsed = parseScope(s);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(formatScope(*parsed), s);
  }
}

TEST(AccessClaim, RoundTrip) {
  std::vector<ResourceScope> scopes = {{"repository", "team/app", {"pull", "push"}},
                                       {"registry", "catalog", {"*"}},
                                       {"repository", "denied", {}}};
  json::array claim = toAccessClaim(scopes);
  EXPECT_EQ(json::serialize(claim),
            R"([{"type":"repository","name":"team/app","actions":["pull","push"]},)"
            R"({"type":"registry","name":"catalog","actions":["*"]},)"
            R"({"type":"repository","name":"denied","actions":[]}])");
  auto back = fromAccessClaim(claim);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, scopes);
}

TEST(AccessClaim, RefusesMalformed) {
  for (const char* bad :
       {R"({})", R"("repository:a:pull")", R"([1])", R"([{"type":"repository","name":"a"}])",
        R"([{"type":"repository","name":"a","actions":"pull"}])",
        R"([{"type":"repository","name":"a","actions":[1]}])",
        R"([{"type":"repository","name":"a","actions":["fly"]}])",
        R"([{"type":"repository","name":"A","actions":["pull"]}])",
        R"([{"type":1,"name":"a","actions":["pull"]}])",
        R"([{"type":"repository","name":null,"actions":["pull"]}])",
        R"([{"type":"registry","name":"x","actions":["*"]}])"}) {
    auto r = fromAccessClaim(json::parse(bad));
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.code(), Code::kInvalidArgument);
    }
  }
  json::array too_many;
  for (size_t i = 0; i <= kMaxScopes; ++i) {
    too_many.push_back(
        json::object{{"type", "repository"}, {"name", "a"}, {"actions", json::array{}}});
  }
  EXPECT_FALSE(fromAccessClaim(too_many).ok());
}

TEST(AccessPermits, ChecksTypeNameAndAction) {
  std::vector<ResourceScope> access = {{"repository", "a", {"pull"}},
                                       {"repository", "b", {"*"}},
                                       {"registry", "catalog", {"*"}},
                                       {"repository", "c", {}}};
  EXPECT_TRUE(accessPermits(access, "repository", "a", "pull"));
  EXPECT_FALSE(accessPermits(access, "repository", "a", "push"));
  EXPECT_TRUE(accessPermits(access, "repository", "b", "delete"));
  EXPECT_TRUE(accessPermits(access, "registry", "catalog", "*"));
  EXPECT_FALSE(accessPermits(access, "registry", "a", "pull"));
  EXPECT_FALSE(accessPermits(access, "repository", "c", "pull"));
  EXPECT_FALSE(accessPermits(access, "repository", "a/b", "pull"));
  EXPECT_FALSE(accessPermits(access, "repository", "A", "pull"));
  EXPECT_FALSE(accessPermits({}, "repository", "a", "pull"));
}

}  // namespace
}  // namespace berth::auth
