#pragma once
// Event bodies as ACR webhooks send them, the CloudEvents 1.0 envelope around them,
// webhook scope and action matching, and the optional HMAC signature. Pure functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "meta/meta_store.h"

namespace berth::events {

// The request that caused an event (ACR's "request" object) and who made it.
struct RequestInfo {
  std::string id;          // request id (uuid)
  std::string host;        // the host the client asked for
  std::string method;      // "PUT", "DELETE"
  std::string user_agent;
  std::string actor;       // identity name; "" when anonymous or auth is off
  // Set when the write was made in another replica and arrived by replication: its
  // version there (meta::EventRecord::version).
  std::optional<meta::Version> replicated;
  // With replication on, the region of the replica the event happened in; the body then
  // says it: "source": {"region": ..., "origin": the region the write was made in}.
  std::string region;
};

struct EventTarget {
  std::string repository;
  std::string tag;         // "" when the change names no tag
  std::string digest;
  std::string media_type;
  uint64_t size = 0;       // 0 for deletes (ACR sends no size then)
};

// An outbox row for `action` ("push" or "delete") with its ACR body:
// {"id","timestamp","action","target":{...},"request":{...}} (+"actor":{"name"} if known).
// `id` is the event's uuid, `now` unix seconds.
meta::EventRecord makeEvent(std::string_view action, const EventTarget& target,
                            const RequestInfo& request, std::string_view id, int64_t now);

// The body of a ping (action "ping", empty target).
std::string pingPayload(const RequestInfo& request, std::string_view id, int64_t now);

// The CloudEvents 1.0 structured-mode JSON around an ACR body: specversion, id (the ACR
// id), source "/v2/<repository>" (or "/berth" for pings), type
// "com.berth.registry.<action>", time, datacontenttype, subject "<repo>:<tag>" or
// "<repo>@<digest>", data = the ACR body.
std::string cloudEvent(std::string_view acr_payload);

// Scope "repo:tag" with '*' matching any run of characters (including '/'); a scope
// without ':' names repositories with any tag; "" matches everything. An event without a
// tag matches only a tag pattern that matches the empty string ("*").
bool scopeMatches(std::string_view scope, std::string_view repository, std::string_view tag);
// '*' wildcard match of the whole text.
bool globMatches(std::string_view pattern, std::string_view text);
bool actionMatches(const std::vector<std::string>& actions, std::string_view action);

// "sha256=" + lowercase hex HMAC-SHA256(secret, body).
std::string signature(std::string_view secret, std::string_view body);

}  // namespace berth::events
