#include "lifecycle/retention.h"

#include <algorithm>
#include <regex>
#include <unordered_map>
#include <unordered_set>

#include <boost/json.hpp>

#include "common/log.h"
#include "common/text.h"

namespace berth::lifecycle {

namespace json = boost::json;

namespace {

constexpr size_t kMaxPattern = 1024;

Result<std::regex> compile(const std::string& pattern, std::string_view field) {
  if (pattern.size() > kMaxPattern) {
    return invalidArgument(std::string(field) + " is longer than " + std::to_string(kMaxPattern) + " characters");
  }
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return invalidArgument(std::string(field) + " " + quoteUntrusted(pattern, 80) + " is not a valid regular expression: " +
               e.what());
  }
}

// A match that runs out of resources counts as `on_error`: the safe answer for the caller.
bool fullMatch(const std::regex& re, const std::string& text, bool on_error) {
  try {
    return std::regex_match(text, re);
  } catch (const std::regex_error&) {
    return on_error;
  }
}
bool contains(const std::regex& re, const std::string& text, bool on_error) {
  try {
    return std::regex_search(text, re);
  } catch (const std::regex_error&) {
    return on_error;
  }
}

// Newest first (last updated; within one second the greater name counts as newer, as in
// v9 after v8): the order keep-N counts in.
void sortNewestFirst(const meta::RepositorySnapshot& s, std::vector<size_t>& tags) {
  std::sort(tags.begin(), tags.end(), [&](size_t a, size_t b) {
    if (s.tags[a].updated_at != s.tags[b].updated_at) return s.tags[a].updated_at > s.tags[b].updated_at;
    return s.tags[a].name > s.tags[b].name;
  });
}

struct CompiledPolicy {
  meta::RetentionPolicy policy;
  std::regex repositories;
  std::optional<std::regex> keep_tags;
  bool hasTagRules() const { return policy.keep_last || policy.not_pulled_for; }
};

Result<CompiledPolicy> compilePolicy(const meta::RetentionPolicy& p) {
  auto repos = compile(p.repositories, "repositories");
  if (!repos) return repos.takeError();
  CompiledPolicy c{p, std::move(*repos), std::nullopt};
  if (!p.keep_tags.empty()) {
    auto keep = compile(p.keep_tags, "keepTags");
    if (!keep) return keep.takeError();
    c.keep_tags = std::move(*keep);
  }
  return c;
}

// When each tag and manifest of one repository was last used: pushed, tagged or pulled
// (the usage telemetry, stored and pending, read once per repository).
class LastUse {
 public:
  LastUse(registry::UsageRecorder* usage, const std::string& repository, int64_t now) : now_(now) {
    if (usage == nullptr) return;
    auto rows = usage->repository(repository);
    if (!rows) {
      unknown_ = true;  // retention never removes on a failed read: everything counts as used now
      return;
    }
    for (const auto& r : *rows) {
      if (r.kind == meta::TrafficKind::kTag) tags_[r.name] = r.traffic.last_pulled;
      if (r.kind == meta::TrafficKind::kManifest) manifests_[r.name] = r.traffic.last_pulled;
    }
  }
  // A pull by the tag or of its manifest by digest counts.
  int64_t tag(const meta::SnapshotTag& t) const {
    if (unknown_) return now_;
    return std::max({t.updated_at, find(tags_, t.name), find(manifests_, t.digest.str())});
  }
  int64_t manifest(const meta::SnapshotManifest& m) const {
    if (unknown_) return now_;
    return std::max(m.updated_at, find(manifests_, m.digest.str()));
  }

 private:
  static int64_t find(const std::unordered_map<std::string, int64_t>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
  }
  int64_t now_;
  bool unknown_ = false;
  std::unordered_map<std::string, int64_t> tags_;
  std::unordered_map<std::string, int64_t> manifests_;
};

json::object planJson(const RepositoryPlan& plan) {
  json::array tags, manifests, skipped;
  for (const auto& t : plan.tags) tags.push_back(json::object{{"tag", t.tag}, {"digest", t.digest.str()}});
  for (const auto& m : plan.manifests) {
    manifests.push_back(json::object{{"digest", m.digest.str()}, {"mediaType", m.media_type}, {"size", m.size}});
  }
  for (const auto& k : plan.skipped) {
    json::object o;
    if (!k.tag.empty()) o["tag"] = k.tag;
    if (!k.digest.empty()) o["digest"] = k.digest;
    o["reason"] = k.reason;
    skipped.push_back(std::move(o));
  }
  return json::object{{"name", plan.repository},
                      {"tags", std::move(tags)},
                      {"manifests", std::move(manifests)},
                      {"skipped", std::move(skipped)}};
}

}  // namespace

Result<PurgeFilter> parsePurgeFilter(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return invalidArgument("filter " + quoteUntrusted(text, 80) + " must be <repository regex>:<tag regex>");
  }
  PurgeFilter f{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  if (auto r = compile(f.repository, "filter repository"); !r) return r.takeError();
  if (auto r = compile(f.tag, "filter tag"); !r) return r.takeError();
  return f;
}

json::object retentionReportJson(const RetentionReport& r) {
  json::object o;
  o["dryRun"] = r.dry_run;
  o["recycleBin"] = r.recycle_bin;
  o["startedAt"] = formatRfc3339(r.started_at);
  o["finishedAt"] = formatRfc3339(r.finished_at);
  if (!r.policies.empty()) {
    json::array names;
    for (const auto& p : r.policies) names.push_back(json::value(p));
    o["policies"] = std::move(names);
  }
  o["tagsDeleted"] = r.tags_deleted;
  o["manifestsDeleted"] = r.manifests_deleted;
  o["bytesFreed"] = r.bytes_freed;
  o["errors"] = r.errors;
  if (!r.first_error.empty()) o["firstError"] = r.first_error;
  json::array repos;
  for (const auto& p : r.repositories) repos.push_back(planJson(p));
  o["repositories"] = std::move(repos);
  return o;
}

json::object retentionPolicyJson(const meta::RetentionPolicy& p) {
  json::object o;
  o["name"] = p.name;
  o["repositories"] = p.repositories;
  o["keepLast"] = p.keep_last ? json::value(*p.keep_last) : json::value(nullptr);
  o["removeNotPulledFor"] = p.not_pulled_for ? json::value(formatDuration(*p.not_pulled_for)) : json::value(nullptr);
  o["removeUntaggedAfter"] = p.untagged_after ? json::value(formatDuration(*p.untagged_after)) : json::value(nullptr);
  o["keepTags"] = p.keep_tags;
  o["enabled"] = p.enabled;
  o["createdOn"] = formatRfc3339(p.created_at);
  o["lastUpdatedOn"] = formatRfc3339(p.updated_at);
  return o;
}

Status validatePolicy(const meta::RetentionPolicy& p) {
  if (p.name.empty() || p.name.size() > 64 ||
      !std::all_of(p.name.begin(), p.name.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
      })) {
    return invalidArgument("policy name must be 1-64 characters of a-z, 0-9, '-', '_' and '.'");
  }
  if (p.repositories.empty()) return invalidArgument("repositories (a regular expression) is required");
  auto c = compilePolicy(p);
  if (!c) return c.takeError();
  if (!p.keep_last && !p.not_pulled_for && !p.untagged_after) {
    return invalidArgument("a policy needs keepLast, removeNotPulledFor or removeUntaggedAfter");
  }
  if (p.not_pulled_for && *p.not_pulled_for <= 0) return invalidArgument("removeNotPulledFor must be more than 0");
  return okStatus();
}

Retention::Retention(registry::Registry& registry, std::shared_ptr<meta::RetentionStore> store,
                     registry::UsageRecorder* usage, RetentionOptions options)
    : registry_(registry), store_(std::move(store)), usage_(usage), options_(options) {}

Retention::~Retention() { stop(); }

Result<RetentionReport> Retention::purge(const PurgeRequest& req, const events::RequestInfo& info) {
  if (req.filters.empty()) return invalidArgument("at least one filter is required");
  if (req.ago < 0) return invalidArgument("ago must not be negative");
  std::vector<std::pair<std::regex, std::regex>> filters;
  for (const auto& f : req.filters) {
    auto repo = compile(f.repository, "filter repository");
    if (!repo) return repo.takeError();
    auto tag = compile(f.tag, "filter tag");
    if (!tag) return tag.takeError();
    filters.emplace_back(std::move(*repo), std::move(*tag));
  }
  std::lock_guard one_at_a_time(run_mu_);
  const int64_t started = unixNow();
  const int64_t cutoff = started - req.ago;
  auto names = store_->repositories();
  if (!names) return names.takeError();
  std::vector<RepositoryPlan> plans;
  for (const auto& name : *names) {
    std::vector<const std::regex*> tag_filters;
    for (const auto& [repo, tag] : filters) {
      if (fullMatch(repo, name, false)) tag_filters.push_back(&tag);
    }
    if (tag_filters.empty()) continue;
    auto snap = store_->snapshot(name);
    if (!snap && snap.code() == Code::kNameUnknown) continue;  // deleted meanwhile
    if (!snap) return snap.takeError();
    PlanRules rules;
    rules.include_locked = req.include_locked;
    rules.tags = [&](const meta::RepositorySnapshot& s) {
      std::vector<size_t> locked_tags, candidates;
      for (size_t i = 0; i < s.tags.size(); ++i) {
        const auto& t = s.tags[i];
        if (t.updated_at >= cutoff) continue;
        if (std::none_of(tag_filters.begin(), tag_filters.end(),
                         [&](const std::regex* re) { return contains(*re, t.name, false); })) {
          continue;
        }
        (!req.include_locked && tagLocked(s, t) ? locked_tags : candidates).push_back(i);
      }
      // --keep counts among the tags that could go (acr purge): locked ones are not among them.
      sortNewestFirst(s, candidates);
      candidates.erase(candidates.begin(),
                       candidates.begin() + static_cast<ptrdiff_t>(std::min<uint64_t>(req.keep, candidates.size())));
      candidates.insert(candidates.end(), locked_tags.begin(), locked_tags.end());
      return candidates;
    };
    if (req.untagged) {
      rules.untagged = [cutoff](const meta::SnapshotManifest& m) { return m.updated_at < cutoff; };
    }
    auto plan = planRepository(*snap, rules);
    if (!plan.empty()) plans.push_back(std::move(plan));
  }
  return execute(std::move(plans), req.dry_run, req.include_locked, info, started, "purge");
}

Result<RetentionReport> Retention::runPolicies(bool dry_run, const std::string& only,
                                               const events::RequestInfo& info) {
  auto all = store_->listPolicies();
  if (!all) return all.takeError();
  std::vector<CompiledPolicy> policies;
  for (const auto& p : *all) {
    if (only.empty() ? !p.enabled : p.name != only) continue;
    auto c = compilePolicy(p);
    if (!c) return c.takeError();
    policies.push_back(std::move(*c));
  }
  if (!only.empty() && policies.empty()) return makeError(Code::kNotFound, "retention policy not found");
  if (policies.empty()) {  // nothing is removed until a policy is set
    RetentionReport none;
    none.dry_run = dry_run;
    none.recycle_bin = options_.recycle_bin;
    none.started_at = none.finished_at = unixNow();
    return none;
  }
  std::lock_guard one_at_a_time(run_mu_);
  const int64_t started = unixNow();
  std::vector<RepositoryPlan> plans;
  {
    auto names = store_->repositories();
    if (!names) return names.takeError();
    for (const auto& name : *names) {
      std::vector<const CompiledPolicy*> matching;
      for (const auto& p : policies) {
        if (fullMatch(p.repositories, name, false)) matching.push_back(&p);
      }
      if (matching.empty()) continue;
      auto snap = store_->snapshot(name);
      if (!snap && snap.code() == Code::kNameUnknown) continue;
      if (!snap) return snap.takeError();
      std::optional<LastUse> last_use;  // read when a rule needs it
      PlanRules rules;
      // A tag goes when no matching policy keeps it: by keepTags, among its keepLast newest
      // or pulled within removeNotPulledFor. Policies without tag rules have no say on tags.
      rules.tags = [&](const meta::RepositorySnapshot& s) {
        std::vector<size_t> out;
        if (std::none_of(matching.begin(), matching.end(), [](auto* p) { return p->hasTagRules(); })) return out;
        std::vector<bool> keep(s.tags.size(), false);
        std::vector<int64_t> last_used;  // filled on first need
        for (const auto* p : matching) {
          std::vector<size_t> unprotected;
          for (size_t i = 0; i < s.tags.size(); ++i) {
            if (p->keep_tags && contains(*p->keep_tags, s.tags[i].name, true)) {
              keep[i] = true;
            } else {
              unprotected.push_back(i);
            }
          }
          if (p->policy.keep_last) {
            sortNewestFirst(s, unprotected);
            for (size_t k = 0; k < unprotected.size() && k < *p->policy.keep_last; ++k) keep[unprotected[k]] = true;
          }
          if (p->policy.not_pulled_for) {
            if (last_used.empty()) {
              if (!last_use) last_use.emplace(usage_, s.name, started);
              for (const auto& t : s.tags) last_used.push_back(last_use->tag(t));
            }
            for (size_t i = 0; i < s.tags.size(); ++i) {
              if (last_used[i] >= started - *p->policy.not_pulled_for) keep[i] = true;
            }
          }
        }
        for (size_t i = 0; i < s.tags.size(); ++i) {
          if (!keep[i]) out.push_back(i);
        }
        return out;
      };
      // An untagged manifest goes when every matching policy with removeUntaggedAfter says so
      // (not pushed, tagged or pulled by digest within it).
      std::vector<int64_t> untagged_after;
      for (const auto* p : matching) {
        if (p->policy.untagged_after) untagged_after.push_back(*p->policy.untagged_after);
      }
      if (!untagged_after.empty()) {
        const int64_t longest = *std::max_element(untagged_after.begin(), untagged_after.end());
        rules.untagged = [this, &name, &last_use, started, longest](const meta::SnapshotManifest& m) {
          if (m.updated_at >= started - longest) return false;
          if (!last_use) last_use.emplace(usage_, name, started);
          return last_use->manifest(m) < started - longest;
        };
      }
      auto plan = planRepository(*snap, rules);
      if (!plan.empty()) plans.push_back(std::move(plan));
    }
  }
  std::vector<std::string> names;
  std::string why = policies.size() == 1 ? "retention policy " : "retention policies ";
  for (const auto& p : policies) {
    why += (names.empty() ? "" : ", ") + p.policy.name;
    names.push_back(p.policy.name);
  }
  auto report = execute(std::move(plans), dry_run, false, info, started, why);
  if (!report) return report;
  report->policies = std::move(names);
  if (!dry_run) {
    std::lock_guard lock(mu_);
    last_run_ = *report;
  }
  return report;
}

Result<RetentionReport> Retention::execute(std::vector<RepositoryPlan> plans, bool dry_run, bool ignore_locks,
                                           const events::RequestInfo& info, int64_t started_at,
                                           const std::string& why) {
  RetentionReport report;
  report.dry_run = dry_run;
  report.recycle_bin = options_.recycle_bin;
  report.started_at = started_at;
  std::vector<meta::ManifestKey> planned;
  for (const auto& p : plans) {
    for (const auto& m : p.manifests) planned.push_back({p.repository, m.digest});
  }
  auto blobs = store_->blobsOf(planned);
  if (!blobs) return blobs.takeError();

  if (dry_run) {
    report.repositories = std::move(plans);
  } else {
    const auto fail = [&](const Error& e) {
      ++report.errors;
      if (report.first_error.empty()) report.first_error = e.message;
    };
    // Whether the delete happened; a refused one is reported as skipped, with why.
    const auto attempt = [&](RepositoryPlan& done, const std::string& tag, const std::string& digest,
                             const Status& s) {
      if (s) return true;
      switch (s.code()) {
        case Code::kConflict: done.skipped.push_back({tag, digest, "changed since planned"}); break;
        case Code::kManifestUnknown: done.skipped.push_back({tag, digest, "already gone"}); break;
        case Code::kDenied: done.skipped.push_back({tag, digest, s.error().message}); break;
        default: fail(s.error()); break;
      }
      return false;
    };
    // Who removed it: the requester of a purge or a run, else the scheduler.
    const auto audit = [&](const std::string& repository, const std::string& tag, const std::string& digest) {
      if (audit_ == nullptr) return;
      meta::AuditRecord entry;
      entry.identity = info.actor.empty() ? "berth" : info.actor;
      if (info.actor.empty()) entry.identity_kind = "system";
      entry.action = "delete";
      entry.repository = repository;
      entry.tag = tag;
      entry.digest = digest;
      entry.method = "DELETE";
      entry.status = 202;
      entry.result = "success";
      entry.message = why;
      audit_->record(std::move(entry));
    };
    for (auto& p : plans) {
      RepositoryPlan done;
      done.repository = p.repository;
      done.skipped = std::move(p.skipped);
      for (auto& t : p.tags) {
        meta::DeleteGuard guard{t.digest, t.updated_at, false, ignore_locks};
        const oci::Reference ref{t.tag};
        if (attempt(done, t.tag, t.digest.str(), registry_.deleteManifest(p.repository, ref, info, guard))) {
          audit(p.repository, t.tag, t.digest.str());
          done.tags.push_back(std::move(t));
        }
      }
      for (auto& m : p.manifests) {
        meta::DeleteGuard guard{std::nullopt, m.updated_at, true, ignore_locks};
        const oci::Reference ref{m.digest};
        if (attempt(done, "", m.digest.str(), registry_.deleteManifest(p.repository, ref, info, guard))) {
          audit(p.repository, "", m.digest.str());
          done.manifests.push_back(std::move(m));
        }
      }
      if (!done.empty()) report.repositories.push_back(std::move(done));
    }
    planned.clear();  // what was deleted is gone: any reference left is a live one
  }
  for (const auto& p : report.repositories) {
    report.tags_deleted += p.tags.size();
    report.manifests_deleted += p.manifests.size();
  }

  std::vector<oci::Digest> digests;
  for (const auto& b : *blobs) digests.push_back(b.digest);
  auto still = store_->referencedBy(digests, planned);
  if (!still) return still.takeError();
  const std::unordered_set<oci::Digest> used(still->begin(), still->end());
  for (const auto& b : *blobs) {
    if (!used.count(b.digest)) report.bytes_freed += b.size;
  }
  report.finished_at = unixNow();
  if (!dry_run) {
    runs_.fetch_add(1, std::memory_order_relaxed);
    tags_deleted_.fetch_add(report.tags_deleted, std::memory_order_relaxed);
    manifests_deleted_.fetch_add(report.manifests_deleted, std::memory_order_relaxed);
  }
  if (!dry_run && (report.tags_deleted > 0 || report.manifests_deleted > 0 || report.errors > 0)) {
    log::info("retention removed", {{"tags", report.tags_deleted},
                                    {"manifests", report.manifests_deleted},
                                    {"bytes", report.bytes_freed},
                                    {"errors", report.errors}});
  }
  return report;
}

std::optional<RetentionReport> Retention::lastPolicyRun() const {
  std::lock_guard lock(mu_);
  return last_run_;
}

void Retention::start() {
  if (!options_.schedule || thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void Retention::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Retention::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (cv_.wait_for(lock, options_.interval, [this] { return stop_; })) return;
    lock.unlock();
    auto scheduled = [this] {
      auto report = runPolicies(false);
      if (!report) log::warn("retention policies failed", {{"error", report.error().message}});
    };
    if (options_.leases == nullptr) {
      scheduled();
    } else {
      (void)options_.leases->runScheduled("retention", options_.interval, scheduled);
    }
    lock.lock();
  }
}

}  // namespace berth::lifecycle
