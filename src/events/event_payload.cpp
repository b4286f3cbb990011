#include "events/event_payload.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>

#include "common/text.h"

namespace berth::events {

namespace json = boost::json;

namespace {

json::object requestJson(const RequestInfo& r) {
  return json::object{
      {"id", r.id}, {"host", r.host}, {"method", r.method}, {"useragent", r.user_agent}};
}

}  // namespace

meta::EventRecord makeEvent(std::string_view action, const EventTarget& t,
                            const RequestInfo& request, std::string_view id, int64_t now) {
  // ACR's field order; size and length (the same number) only when known.
  json::object target;
  if (!t.media_type.empty()) target["mediaType"] = t.media_type;
  if (t.size != 0) target["size"] = t.size;
  if (!t.digest.empty()) target["digest"] = t.digest;
  if (t.size != 0) target["length"] = t.size;
  target["repository"] = t.repository;
  if (!t.tag.empty()) target["tag"] = t.tag;
  json::object body;
  body["id"] = id;
  body["timestamp"] = formatRfc3339(now);
  body["action"] = action;
  body["target"] = std::move(target);
  body["request"] = requestJson(request);
  if (!request.actor.empty()) body["actor"] = json::object{{"name", request.actor}};
  if (!request.region.empty()) {
    body["source"] = json::object{{"region", request.region},
                                  {"origin", request.replicated ? request.replicated->origin : request.region}};
  }

  meta::EventRecord e;
  e.created_at = now;
  e.action = std::string(action);
  e.repository = t.repository;
  e.tag = t.tag;
  e.digest = t.digest;
  e.media_type = t.media_type;
  e.size = t.size;
  e.payload = json::serialize(body);
  return e;
}

std::string pingPayload(const RequestInfo& request, std::string_view id, int64_t now) {
  json::object body;
  body["id"] = id;
  body["timestamp"] = formatRfc3339(now);
  body["action"] = "ping";
  body["target"] = json::object{};
  body["request"] = requestJson(request);
  return json::serialize(body);
}

std::string cloudEvent(std::string_view acr_payload) {
  json::value data;
  try {
    data = json::parse(acr_payload);
  } catch (const std::exception&) {
    data = json::object{};
  }
  json::object empty;
  const json::object& body = data.is_object() ? data.get_object() : empty;
  auto str = [](const json::object& o, std::string_view key) -> std::string {
    auto it = o.find(key);
    return it != o.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                    : std::string();
  };
  const std::string action = str(body, "action");
  json::object target;
  if (auto it = body.find("target"); it != body.end() && it->value().is_object()) {
    target = it->value().get_object();
  }
  const std::string repository = str(target, "repository");
  json::object ce;
  ce["specversion"] = "1.0";
  ce["id"] = str(body, "id");
  ce["source"] = repository.empty() ? std::string("/berth") : "/v2/" + repository;
  ce["type"] = "com.berth.registry." + (action.empty() ? std::string("event") : action);
  ce["time"] = str(body, "timestamp");
  ce["datacontenttype"] = "application/json";
  if (!repository.empty()) {
    const std::string tag = str(target, "tag");
    ce["subject"] = tag.empty() ? repository + "@" + str(target, "digest") : repository + ":" + tag;
  }
  ce["data"] = std::move(data);
  return json::serialize(ce);
}

bool globMatches(std::string_view p, std::string_view t) {
  // Iterative wildcard match with backtracking to the last '*'.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && p[pi] == t[ti]) {
      ++pi;
      ++ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool scopeMatches(std::string_view scope, std::string_view repository, std::string_view tag) {
  if (scope.empty()) return true;
  const size_t colon = scope.rfind(':');
  if (colon == std::string_view::npos) return globMatches(scope, repository);
  return globMatches(scope.substr(0, colon), repository) &&
         globMatches(scope.substr(colon + 1), tag);
}

bool actionMatches(const std::vector<std::string>& actions, std::string_view action) {
  for (const auto& a : actions) {
    if (a == action) return true;
  }
  return false;
}

std::string signature(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xf];
  }
  return out;
}

}  // namespace berth::events
