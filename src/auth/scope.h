#pragma once
// Token scopes of the distribution token protocol:
//   scope         := resourcescope [ ' ' resourcescope ]*
//   resourcescope := type ':' name ':' action [ ',' action ]*
// e.g. "repository:team/app:pull,push registry:catalog:*", and the JWT "access" claim
// that carries the granted subset: [{"type","name","actions":[...]}].
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace berth::auth {

struct ResourceScope {
  std::string type;                  // "repository", "registry", or type "(" class ")"
  std::string name;                  // repository path, "catalog", ...
  std::vector<std::string> actions;  // deduplicated, in order of appearance
  bool operator==(const ResourceScope&) const = default;
};

// Actions Berth knows. Anything else is kInvalidArgument. deleted_read and
// deleted_restore are ACR's soft-delete actions (/acr/v1/_deleted, policy.h).
inline constexpr std::string_view kKnownActions[] = {"pull",          "push",           "delete",       "*",
                                                     "metadata_read", "metadata_write", "deleted_read", "deleted_restore"};
bool isKnownAction(std::string_view action);

// Limits on outside input.
inline constexpr size_t kMaxScopeBytes = 16 * 1024;
inline constexpr size_t kMaxScopes = 100;
inline constexpr size_t kMaxRepositoryName = 255;

// An OCI repository name: lowercase components [a-z0-9]+ joined by '.', '_', '__' or
// '-'+, separated by '/', at most 255 characters. A registry host is not part of it
// ("localhost:5000/app" is invalid: clients send the path only).
bool isValidRepositoryName(std::string_view name);

// One resourcescope. type is [a-z0-9]+ with an optional "(class)"; for "repository"
// types the name must be a valid repository name; for "registry" it must be "catalog" or
// "deleted_catalog" (ACR's listing of repositories with soft-deleted items);
// other types need a non-empty name of [A-Za-z0-9._/-]. Actions: a non-empty comma
// list of known actions, without empty elements; duplicates are dropped.
Result<ResourceScope> parseScope(std::string_view scope);

// Several scopes separated by spaces (runs of spaces and leading/trailing spaces are
// tolerated; other whitespace is not). Scopes naming the same type and name are merged
// (union of actions). "" gives an empty list (authentication without access).
// kInvalidArgument if any scope is invalid or the limits are exceeded.
Result<std::vector<ResourceScope>> parseScopes(std::string_view scopes);

// "type:name:a,b".
std::string formatScope(const ResourceScope& scope);

// The JWT "access" claim. Entries with no actions are kept (a token server may say
// "nothing granted" that way).
boost::json::array toAccessClaim(const std::vector<ResourceScope>& scopes);
// Parses and validates an "access" claim: an array (at most kMaxScopes entries) of
// objects with string "type" and "name" and an array of string "actions", each valid as
// in parseScope. kInvalidArgument otherwise.
Result<std::vector<ResourceScope>> fromAccessClaim(const boost::json::value& access);

// True iff `access` grants `action` (or "*") on type/name: the registry-side check of a
// verified token.
bool accessPermits(const std::vector<ResourceScope>& access, std::string_view type,
                   std::string_view name, std::string_view action);

}  // namespace berth::auth
