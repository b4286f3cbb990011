#include "events/event_payload.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace berth::events {
namespace {

namespace json = boost::json;

TEST(ScopeMatches, EmptyScopeMatchesEverything) {
  EXPECT_TRUE(scopeMatches("", "any/repo", ""));
  EXPECT_TRUE(scopeMatches("", "any/repo", "v1"));
}

TEST(ScopeMatches, RepositoryAndTagPatterns) {
  EXPECT_TRUE(scopeMatches("team/app:v1", "team/app", "v1"));
  EXPECT_FALSE(scopeMatches("team/app:v1", "team/app", "v2"));
  EXPECT_FALSE(scopeMatches("team/app:v1", "team/app2", "v1"));
  EXPECT_TRUE(scopeMatches("team/*:v*", "team/a/b", "v10"));
  EXPECT_FALSE(scopeMatches("team/*:v*", "other/a", "v10"));
  EXPECT_TRUE(scopeMatches("*:prod", "x", "prod"));
  EXPECT_TRUE(scopeMatches("team/app:*", "team/app", "anything"));
}

TEST(ScopeMatches, ScopeWithoutTagMatchesAnyTag) {
  EXPECT_TRUE(scopeMatches("team/app", "team/app", "v1"));
  EXPECT_TRUE(scopeMatches("team/app", "team/app", ""));
  EXPECT_TRUE(scopeMatches("team/*", "team/x", ""));
  EXPECT_FALSE(scopeMatches("team/app", "team/app/sub", ""));
}

TEST(ScopeMatches, UntaggedEventsMatchOnlyAStarTagPattern) {
  EXPECT_TRUE(scopeMatches("team/app:*", "team/app", ""));
  EXPECT_FALSE(scopeMatches("team/app:v*", "team/app", ""));
}

TEST(GlobMatches, BacktracksOverStars) {
  EXPECT_TRUE(globMatches("a*b*c", "aXXbYYbc"));
  EXPECT_FALSE(globMatches("a*b*c", "aXXbYYbd"));
  EXPECT_TRUE(globMatches("**", ""));
  EXPECT_FALSE(globMatches("", "a"));
  EXPECT_TRUE(globMatches("", ""));
}

TEST(ActionMatches, ExactNames) {
  EXPECT_TRUE(actionMatches({"push", "delete"}, "delete"));
  EXPECT_FALSE(actionMatches({"push"}, "delete"));
  EXPECT_FALSE(actionMatches({}, "push"));
}

RequestInfo request() { return {"req-1", "registry.test:5000", "PUT", "docker/27", "alice"}; }

TEST(MakeEvent, PushBodyIsTheAcrShape) {
  auto e = makeEvent("push", {"team/app", "v1", "sha256:abc", "application/vnd.oci.image.manifest.v1+json", 512},
                     request(), "evt-1", 1700000000);
  EXPECT_EQ(e.action, "push");
  EXPECT_EQ(e.repository, "team/app");
  EXPECT_EQ(e.tag, "v1");
  EXPECT_EQ(e.size, 512u);
  EXPECT_EQ(e.created_at, 1700000000);
  auto body = json::parse(e.payload).as_object();
  EXPECT_EQ(body.at("id"), "evt-1");
  EXPECT_EQ(body.at("timestamp"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(body.at("action"), "push");
  EXPECT_EQ(body.at("target"), json::parse(R"({"mediaType":"application/vnd.oci.image.manifest.v1+json",
      "size":512,"digest":"sha256:abc","length":512,"repository":"team/app","tag":"v1"})"));
  EXPECT_EQ(body.at("request"), json::parse(R"({"id":"req-1","host":"registry.test:5000","method":"PUT",
      "useragent":"docker/27"})"));
  EXPECT_EQ(body.at("actor"), json::parse(R"({"name":"alice"})"));
}

TEST(MakeEvent, DeleteByDigestHasNoTagNorSizeAndAnonymousNoActor) {
  RequestInfo r = request();
  r.actor.clear();
  auto e = makeEvent("delete", {"team/app", "", "sha256:abc", "m", 0}, r, "evt-2", 0);
  auto body = json::parse(e.payload).as_object();
  EXPECT_EQ(body.at("target"), json::parse(R"({"mediaType":"m","digest":"sha256:abc","repository":"team/app"})"));
  EXPECT_FALSE(body.contains("actor"));
}

TEST(CloudEvent, WrapsTheAcrBody) {
  auto e = makeEvent("push", {"team/app", "v1", "sha256:abc", "m", 1}, request(), "evt-1", 1700000000);
  auto ce = json::parse(cloudEvent(e.payload)).as_object();
  EXPECT_EQ(ce.at("specversion"), "1.0");
  EXPECT_EQ(ce.at("id"), "evt-1");
  EXPECT_EQ(ce.at("type"), "com.berth.registry.push");
  EXPECT_EQ(ce.at("source"), "/v2/team/app");
  EXPECT_EQ(ce.at("subject"), "team/app:v1");
  EXPECT_EQ(ce.at("time"), "2023-11-14T22:13:20Z");
  EXPECT_EQ(ce.at("datacontenttype"), "application/json");
  EXPECT_EQ(ce.at("data"), json::parse(e.payload));
}

TEST(CloudEvent, PingHasNoSubject) {
  auto ce = json::parse(cloudEvent(pingPayload(request(), "p1", 0))).as_object();
  EXPECT_EQ(ce.at("type"), "com.berth.registry.ping");
  EXPECT_EQ(ce.at("source"), "/berth");
  EXPECT_FALSE(ce.contains("subject"));
}

TEST(Signature, IsHexHmacSha256) {
  // RFC 4231 test case 2.
  EXPECT_EQ(signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace berth::events
