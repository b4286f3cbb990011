// planRepository on hand-made snapshots: what goes, what stays and why, and in which order.
#include "lifecycle/retention_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace berth::lifecycle {
namespace {

using meta::RepositorySnapshot;
using meta::SnapshotManifest;
using meta::SnapshotTag;

class Repo {
 public:
  Repo() { s_.name = "team/app"; }

  oci::Digest manifest(const std::string& name, int64_t updated_at, std::vector<std::string> children = {},
                       std::optional<std::string> subject = std::nullopt) {
    SnapshotManifest m;
    m.digest = d(name);
    m.media_type = children.empty() ? "application/vnd.oci.image.manifest.v1+json"
                                    : "application/vnd.oci.image.index.v1+json";
    m.size = 100;
    m.created_at = m.updated_at = updated_at;
    for (const auto& c : children) m.children.push_back(d(c));
    std::sort(m.children.begin(), m.children.end());
    if (subject) m.subject = d(*subject);
    names_[m.digest.str()] = name;
    s_.manifests.push_back(std::move(m));
    std::sort(s_.manifests.begin(), s_.manifests.end(),
              [](const SnapshotManifest& a, const SnapshotManifest& b) { return a.digest < b.digest; });
    return d(name);
  }
  void tag(const std::string& name, const std::string& manifest, int64_t updated_at) {
    s_.tags.push_back({name, d(manifest), updated_at, updated_at, {}});
    std::sort(s_.tags.begin(), s_.tags.end(), [](const SnapshotTag& a, const SnapshotTag& b) { return a.name < b.name; });
  }
  SnapshotManifest& m(const std::string& name) {
    for (auto& x : s_.manifests) {
      if (x.digest == d(name)) return x;
    }
    throw std::runtime_error("no manifest " + name);
  }
  SnapshotTag& t(const std::string& name) {
    for (auto& x : s_.tags) {
      if (x.name == name) return x;
    }
    throw std::runtime_error("no tag " + name);
  }
  static oci::Digest d(const std::string& name) { return oci::digestOf(name); }
  std::string nameOf(const oci::Digest& digest) const { return names_.at(digest.str()); }
  const RepositorySnapshot& snapshot() const { return s_; }

  // Tags named in `names` are chosen by the rules.
  PlanRules rules(std::vector<std::string> names, std::function<bool(const SnapshotManifest&)> untagged = {}) {
    PlanRules r;
    r.tags = [names](const RepositorySnapshot& s) {
      std::vector<size_t> out;
      for (size_t i = 0; i < s.tags.size(); ++i) {
        if (std::find(names.begin(), names.end(), s.tags[i].name) != names.end()) out.push_back(i);
      }
      return out;
    };
    r.untagged = std::move(untagged);
    return r;
  }

  std::vector<std::string> tagsOf(const RepositoryPlan& p) const {
    std::vector<std::string> out;
    for (const auto& t : p.tags) out.push_back(t.tag);
    return out;
  }
  std::vector<std::string> manifestsOf(const RepositoryPlan& p) const {
    std::vector<std::string> out;
    for (const auto& m : p.manifests) out.push_back(nameOf(m.digest));
    return out;
  }
  std::vector<std::string> sortedManifestsOf(const RepositoryPlan& p) const {
    auto out = manifestsOf(p);
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  RepositorySnapshot s_;
  std::map<std::string, std::string> names_;
};

const auto kAll = [](const SnapshotManifest&) { return true; };

size_t position(const std::vector<std::string>& v, const std::string& x) {
  return static_cast<size_t>(std::find(v.begin(), v.end(), x) - v.begin());
}

TEST(RetentionPlan, TagsOnlyLeaveManifests) {
  Repo r;
  r.manifest("a", 10);
  r.manifest("b", 20);
  r.tag("v1", "a", 10);
  r.tag("v2", "b", 20);
  auto plan = planRepository(r.snapshot(), r.rules({"v1"}));
  EXPECT_EQ(r.tagsOf(plan), std::vector<std::string>{"v1"});
  EXPECT_TRUE(plan.manifests.empty());  // no untagged rule: untagged manifests stay
  EXPECT_TRUE(plan.skipped.empty());
  EXPECT_EQ(plan.tags[0].digest, Repo::d("a"));
  EXPECT_EQ(plan.tags[0].updated_at, 10);
}

TEST(RetentionPlan, UntaggedAfterTheTagsGoAndTheRuleAgrees) {
  Repo r;
  r.manifest("a", 10);
  r.manifest("b", 20);
  r.manifest("c", 30);
  r.tag("v1", "a", 10);
  r.tag("v2", "b", 20);
  r.tag("also-a", "a", 10);
  // v1 goes but a keeps also-a; b loses its only tag; c was untagged and is too young.
  auto plan = planRepository(r.snapshot(),
                             r.rules({"v1", "v2"}, [](const SnapshotManifest& m) { return m.updated_at < 25; }));
  EXPECT_EQ(r.tagsOf(plan), (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(r.manifestsOf(plan), std::vector<std::string>{"b"});
}

TEST(RetentionPlan, LockedTagsAndManifestsAreSkippedUnlessIncluded) {
  Repo r;
  r.manifest("a", 10);
  r.manifest("b", 10);
  r.manifest("c", 10);
  r.tag("v1", "a", 10);
  r.tag("v2", "b", 10);
  r.tag("v3", "c", 10);
  r.t("v1").attributes.delete_enabled = false;   // the tag is locked
  r.m("b").attributes.write_enabled = false;     // its manifest is locked
  auto plan = planRepository(r.snapshot(), r.rules({"v1", "v2", "v3"}, kAll));
  EXPECT_EQ(r.tagsOf(plan), std::vector<std::string>{"v3"});
  EXPECT_EQ(r.manifestsOf(plan), std::vector<std::string>{"c"});
  ASSERT_EQ(plan.skipped.size(), 2u);
  EXPECT_EQ(plan.skipped[0].tag, "v1");
  EXPECT_EQ(plan.skipped[0].reason, "locked: deleteEnabled is false");
  EXPECT_EQ(plan.skipped[1].tag, "v2");
  EXPECT_EQ(plan.skipped[1].reason, "locked: writeEnabled is false");

  auto rules = r.rules({"v1", "v2", "v3"}, kAll);
  rules.include_locked = true;
  auto all = planRepository(r.snapshot(), rules);
  EXPECT_EQ(r.tagsOf(all), (std::vector<std::string>{"v1", "v2", "v3"}));
  EXPECT_EQ(r.sortedManifestsOf(all), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(all.skipped.empty());
}

TEST(RetentionPlan, LockedUntaggedManifestIsReported) {
  Repo r;
  r.manifest("a", 10);
  r.m("a").attributes.delete_enabled = false;
  auto plan = planRepository(r.snapshot(), r.rules({}, kAll));
  EXPECT_TRUE(plan.manifests.empty());
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0].digest, Repo::d("a").str());
}

TEST(RetentionPlan, ChildrenOfAKeptIndexStay) {
  Repo r;
  r.manifest("amd64", 10);
  r.manifest("arm64", 10);
  r.manifest("index", 10, {"amd64", "arm64"});
  r.manifest("stray", 10);
  r.tag("latest", "index", 10);
  auto plan = planRepository(r.snapshot(), r.rules({}, kAll));
  EXPECT_EQ(r.manifestsOf(plan), std::vector<std::string>{"stray"});
}

TEST(RetentionPlan, AnIndexGoesBeforeItsChildren) {
  Repo r;
  r.manifest("amd64", 10);
  r.manifest("arm64", 10);
  r.manifest("index", 10, {"amd64", "arm64"});
  r.manifest("outer", 10, {"index"});  // an index of an index
  r.tag("latest", "outer", 10);
  auto plan = planRepository(r.snapshot(), r.rules({"latest"}, kAll));
  auto order = r.manifestsOf(plan);
  ASSERT_EQ(order.size(), 4u);
  EXPECT_LT(position(order, "outer"), position(order, "index"));
  EXPECT_LT(position(order, "index"), position(order, "amd64"));
  EXPECT_LT(position(order, "index"), position(order, "arm64"));
}

TEST(RetentionPlan, AChildSharedWithAKeptIndexStays) {
  Repo r;
  r.manifest("shared", 10);
  r.manifest("only-old", 10);
  r.manifest("old-index", 10, {"shared", "only-old"});
  r.manifest("new-index", 10, {"shared"});
  r.tag("old", "old-index", 10);
  r.tag("new", "new-index", 10);
  auto plan = planRepository(r.snapshot(), r.rules({"old"}, kAll));
  EXPECT_EQ(r.manifestsOf(plan), (std::vector<std::string>{"old-index", "only-old"}));
}

TEST(RetentionPlan, ALockedIndexKeepsItsChildren) {
  Repo r;
  r.manifest("child", 10);
  r.manifest("index", 10, {"child"});
  r.m("index").attributes.delete_enabled = false;
  auto plan = planRepository(r.snapshot(), r.rules({}, kAll));
  EXPECT_TRUE(plan.manifests.empty());
  ASSERT_EQ(plan.skipped.size(), 1u);  // the index; the child stays because the index does
  EXPECT_EQ(plan.skipped[0].digest, Repo::d("index").str());
}

TEST(RetentionPlan, ReferrersFollowTheirSubject) {
  Repo r;
  r.manifest("kept", 10);
  r.manifest("gone", 10);
  r.manifest("sig-of-kept", 10, {}, "kept");
  r.manifest("sig-of-gone", 10, {}, "gone");
  r.manifest("sbom-of-sig", 10, {}, "sig-of-gone");  // a referrer of a referrer
  r.tag("stable", "kept", 10);
  r.tag("old", "gone", 10);
  auto plan = planRepository(r.snapshot(), r.rules({"old"}, kAll));
  auto order = r.manifestsOf(plan);
  EXPECT_EQ(r.sortedManifestsOf(plan), (std::vector<std::string>{"gone", "sbom-of-sig", "sig-of-gone"}));
  EXPECT_LT(position(order, "gone"), position(order, "sig-of-gone"));
  EXPECT_LT(position(order, "sig-of-gone"), position(order, "sbom-of-sig"));
}

TEST(RetentionPlan, AYoungReferrerOfAGoneSubjectStillGoesWithIt) {
  // Referrers are not judged on their own: a signature has no meaning without its image.
  Repo r;
  r.manifest("gone", 10);
  r.manifest("sig", 99, {}, "gone");
  auto plan = planRepository(r.snapshot(),
                             r.rules({}, [](const SnapshotManifest& m) { return m.updated_at < 50; }));
  EXPECT_EQ(r.sortedManifestsOf(plan), (std::vector<std::string>{"gone", "sig"}));
}

TEST(RetentionPlan, WithoutTheUntaggedRuleReferrersAndChildrenStay) {
  Repo r;
  r.manifest("img", 10);
  r.manifest("sig", 10, {}, "img");
  r.tag("v1", "img", 10);
  auto plan = planRepository(r.snapshot(), r.rules({"v1"}));
  EXPECT_EQ(r.tagsOf(plan), std::vector<std::string>{"v1"});
  EXPECT_TRUE(plan.manifests.empty());
}

TEST(RetentionPlan, ALockedRepositoryIsSkippedWhole) {
  Repo r;
  r.manifest("a", 10);
  r.tag("v1", "a", 10);
  RepositorySnapshot s = r.snapshot();
  s.attributes.delete_enabled = false;
  auto rules = r.rules({"v1"}, kAll);
  rules.include_locked = true;  // repository locks hold anyway
  auto plan = planRepository(s, rules);
  EXPECT_TRUE(plan.tags.empty());
  EXPECT_TRUE(plan.manifests.empty());
  ASSERT_EQ(plan.skipped.size(), 1u);
  EXPECT_EQ(plan.skipped[0].reason, "repository locked: deleteEnabled is false");
  // Nothing to remove: nothing to report either.
  EXPECT_TRUE(planRepository(s, r.rules({})).empty());
}

}  // namespace
}  // namespace berth::lifecycle
