#include "lifecycle/retention_plan.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace berth::lifecycle {

bool locked(const meta::Attributes& a) { return !a.delete_enabled || !a.write_enabled; }

namespace {

const char* lockReason(const meta::Attributes& a) {
  return !a.delete_enabled ? "locked: deleteEnabled is false" : "locked: writeEnabled is false";
}

// Manifests of the snapshot by digest, and who needs whom.
class Graph {
 public:
  explicit Graph(const meta::RepositorySnapshot& s) : s_(s) {
    for (size_t i = 0; i < s.manifests.size(); ++i) index_.emplace(s.manifests[i].digest, i);
    parents_.resize(s.manifests.size());
    referrers_.resize(s.manifests.size());
    for (size_t i = 0; i < s.manifests.size(); ++i) {
      for (const auto& child : s.manifests[i].children) {
        if (auto c = find(child)) parents_[*c].push_back(i);
      }
      if (const auto& subject = s.manifests[i].subject) {
        if (auto m = find(*subject)) referrers_[*m].push_back(i);
      }
    }
  }

  std::optional<size_t> find(const oci::Digest& d) const {
    auto it = index_.find(d);
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }

  // Everything `kept` needs, transitively: children of kept indexes, referrers of kept
  // subjects.
  std::vector<bool> closure(std::vector<bool> kept) const {
    std::vector<size_t> work;
    for (size_t i = 0; i < kept.size(); ++i) {
      if (kept[i]) work.push_back(i);
    }
    const auto keep = [&](size_t i) {
      if (!kept[i]) {
        kept[i] = true;
        work.push_back(i);
      }
    };
    while (!work.empty()) {
      const size_t i = work.back();
      work.pop_back();
      for (const auto& child : s_.manifests[i].children) {
        if (auto c = find(child)) keep(*c);
      }
      for (size_t r : referrers_[i]) keep(r);
    }
    return kept;
  }

  // The manifests not kept, each after its parents and its subject.
  std::vector<size_t> deleteOrder(const std::vector<bool>& kept) const {
    std::vector<size_t> order;
    std::vector<char> state(kept.size(), 0);  // 0 new, 1 visiting, 2 done
    std::function<void(size_t)> visit = [&](size_t i) {
      if (state[i] != 0) return;  // done, or a cycle (impossible with content digests)
      state[i] = 1;
      for (size_t p : parents_[i]) {
        if (!kept[p]) visit(p);
      }
      if (const auto& subject = s_.manifests[i].subject) {
        if (auto m = find(*subject); m && !kept[*m]) visit(*m);
      }
      state[i] = 2;
      order.push_back(i);
    };
    for (size_t i = 0; i < kept.size(); ++i) {
      if (!kept[i]) visit(i);
    }
    return order;
  }

 private:
  const meta::RepositorySnapshot& s_;
  std::unordered_map<oci::Digest, size_t> index_;
  std::vector<std::vector<size_t>> parents_;    // indexes listing the manifest
  std::vector<std::vector<size_t>> referrers_;  // manifests whose subject it is
};

}  // namespace

bool tagLocked(const meta::RepositorySnapshot& snapshot, const meta::SnapshotTag& tag) {
  if (locked(tag.attributes)) return true;
  const auto& ms = snapshot.manifests;  // sorted by digest
  auto it = std::lower_bound(ms.begin(), ms.end(), tag.digest,
                             [](const meta::SnapshotManifest& m, const oci::Digest& d) { return m.digest < d; });
  return it != ms.end() && it->digest == tag.digest && locked(it->attributes);
}

RepositoryPlan planRepository(const meta::RepositorySnapshot& s, const PlanRules& rules) {
  RepositoryPlan plan;
  plan.repository = s.name;
  const Graph graph(s);

  std::vector<bool> tag_removed(s.tags.size(), false);
  std::vector<size_t> chosen = rules.tags ? rules.tags(s) : std::vector<size_t>{};
  std::vector<bool> chosen_mask(s.tags.size(), false);
  for (size_t i : chosen) {
    if (i < s.tags.size()) chosen_mask[i] = true;
  }

  // Tags: the rules' choice, minus locked ones.
  std::vector<size_t> tag_order;
  for (size_t i = 0; i < s.tags.size(); ++i) {
    if (!chosen_mask[i]) continue;
    const auto& t = s.tags[i];
    if (!rules.include_locked && tagLocked(s, t)) {
      const auto m = graph.find(t.digest);
      const auto& attributes = locked(t.attributes) || !m ? t.attributes : s.manifests[*m].attributes;
      plan.skipped.push_back({t.name, t.digest.str(), lockReason(attributes)});
      continue;
    }
    tag_removed[i] = true;
    tag_order.push_back(i);
  }

  // Manifests: those untagged once the tags go, that the rules let go, and nothing kept needs.
  std::vector<bool> kept(s.manifests.size(), true);
  if (rules.untagged) {
    std::vector<bool> tagged(s.manifests.size(), false);
    for (size_t i = 0; i < s.tags.size(); ++i) {
      if (tag_removed[i]) continue;
      if (auto m = graph.find(s.tags[i].digest)) tagged[*m] = true;
    }
    std::vector<bool> eligible(s.manifests.size(), false);
    for (size_t i = 0; i < s.manifests.size(); ++i) {
      // A referrer of a manifest in the repository is not judged on its own: it stays
      // exactly while its subject does (the closure below), unless tagged.
      const auto& subject = s.manifests[i].subject;
      const bool follows_subject = subject && graph.find(*subject).has_value();
      eligible[i] = !tagged[i] && (follows_subject || rules.untagged(s.manifests[i]));
    }
    // Which would go if locks did not count: the locked ones among them are reported.
    std::vector<bool> unlocked_kept(s.manifests.size());
    for (size_t i = 0; i < kept.size(); ++i) unlocked_kept[i] = !eligible[i];
    unlocked_kept = graph.closure(std::move(unlocked_kept));
    for (size_t i = 0; i < s.manifests.size(); ++i) {
      const bool is_locked = !rules.include_locked && locked(s.manifests[i].attributes);
      if (!unlocked_kept[i] && is_locked) {
        plan.skipped.push_back({"", s.manifests[i].digest.str(), lockReason(s.manifests[i].attributes)});
      }
      kept[i] = !eligible[i] || is_locked;
    }
    kept = graph.closure(std::move(kept));
  }

  if (locked(s.attributes)) {
    // Nothing goes from a locked repository; say so once if something would have.
    const bool would = !tag_order.empty() || std::find(kept.begin(), kept.end(), false) != kept.end() ||
                       !plan.skipped.empty();
    plan.tags.clear();
    plan.manifests.clear();
    plan.skipped.clear();
    if (would) plan.skipped.push_back({"", "", std::string("repository ") + lockReason(s.attributes)});
    return plan;
  }

  for (size_t i : tag_order) plan.tags.push_back({s.tags[i].name, s.tags[i].digest, s.tags[i].updated_at});
  for (size_t i : graph.deleteOrder(kept)) {
    const auto& m = s.manifests[i];
    plan.manifests.push_back({m.digest, m.media_type, m.size, m.updated_at});
  }
  return plan;
}

}  // namespace berth::lifecycle
