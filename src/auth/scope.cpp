#include "auth/scope.h"

#include <algorithm>
#include <boost/json.hpp>

namespace berth::auth {
namespace json = boost::json;

namespace {

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [a-z0-9]+ ( ('.' | '_' | '__' | '-'+) [a-z0-9]+ )*
bool isValidComponent(std::string_view c) {
  size_t i = 0;
  auto alnumRun = [&] {
    size_t start = i;
    while (i < c.size() && isLowerAlnum(c[i])) ++i;
    return i > start;
  };
  if (!alnumRun()) return false;
  while (i < c.size()) {
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      ++i;
      if (i < c.size() && c[i] == '_') ++i;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnumRun()) return false;
  }
  return true;
}

// [a-z0-9]+ [ '(' [a-z0-9]+ ')' ]
bool isValidType(std::string_view t) {
  size_t open = t.find('(');
  std::string_view base = t.substr(0, open);
  if (base.empty() || !std::all_of(base.begin(), base.end(), isLowerAlnum)) return false;
  if (open == std::string_view::npos) return true;
  std::string_view cls = t.substr(open + 1);
  if (cls.size() < 2 || cls.back() != ')') return false;
  cls.remove_suffix(1);
  return std::all_of(cls.begin(), cls.end(), isLowerAlnum);
}

std::string_view baseType(std::string_view type) { return type.substr(0, type.find('(')); }

bool isValidName(std::string_view type, std::string_view name) {
  std::string_view base = baseType(type);
  if (base == "repository") return isValidRepositoryName(name);
  if (base == "registry") return name == "catalog" || name == "deleted_catalog";
  if (name.empty() || name.size() > kMaxRepositoryName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '/' || c == '-';
  });
}

void addAction(std::vector<std::string>& actions, std::string_view action) {
  if (std::find(actions.begin(), actions.end(), action) == actions.end()) {
    actions.emplace_back(action);
  }
}

Error invalid(std::string message) { return makeError(Code::kInvalidArgument, std::move(message)); }

// Merges `scope` into `out` (same type and name: union of actions).
void merge(std::vector<ResourceScope>& out, ResourceScope scope) {
  for (ResourceScope& s : out) {
    if (s.type == scope.type && s.name == scope.name) {
      for (const std::string& a : scope.actions) addAction(s.actions, a);
      return;
    }
  }
  out.push_back(std::move(scope));
}

}  // namespace

bool isKnownAction(std::string_view action) {
  return std::find(std::begin(kKnownActions), std::end(kKnownActions), action) !=
         std::end(kKnownActions);
}

bool isValidRepositoryName(std::string_view name) {
  if (name.empty() || name.size() > kMaxRepositoryName) return false;
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    if (!isValidComponent(name.substr(start, slash - start))) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

Result<ResourceScope> parseScope(std::string_view scope) {
  // Error messages name the rule, not the input: scopes come from clients and end up in
  // logs.
  size_t first = scope.find(':');
  size_t last = scope.rfind(':');
  if (first == std::string_view::npos || first == last) {
    return invalid("scope must be type:name:actions");
  }
  ResourceScope out;
  out.type = std::string(scope.substr(0, first));
  out.name = std::string(scope.substr(first + 1, last - first - 1));
  std::string_view actions = scope.substr(last + 1);
  if (!isValidType(out.type)) return invalid("scope resource type invalid");
  if (!isValidName(out.type, out.name)) return invalid("scope resource name invalid");
  if (actions.empty()) return invalid("scope has no actions");
  size_t start = 0;
  while (true) {
    size_t comma = actions.find(',', start);
    std::string_view action = actions.substr(start, comma - start);
    if (!isKnownAction(action)) return invalid("scope action unknown");
    addAction(out.actions, action);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

Result<std::vector<ResourceScope>> parseScopes(std::string_view scopes) {
  if (scopes.size() > kMaxScopeBytes) return invalid("scope too long");
  std::vector<ResourceScope> out;
  size_t count = 0;
  size_t i = 0;
  while (i < scopes.size()) {
    if (scopes[i] == ' ') {
      ++i;
      continue;
    }
    size_t end = scopes.find(' ', i);
    if (end == std::string_view::npos) end = scopes.size();
    if (++count > kMaxScopes) return invalid("too many scopes");
    auto one = parseScope(scopes.substr(i, end - i));
    if (!one.ok()) return one.takeError();
    merge(out, std::move(*one));
    i = end;
  }
  return out;
}

std::string formatScope(const ResourceScope& scope) {
  std::string out = scope.type + ":" + scope.name + ":";
  for (size_t i = 0; i < scope.actions.size(); ++i) {
    if (i > 0) out += ',';
    out += scope.actions[i];
  }
  return out;
}

json::array toAccessClaim(const std::vector<ResourceScope>& scopes) {
  json::array out;
  for (const ResourceScope& s : scopes) {
    json::array actions;
    for (const std::string& a : s.actions) actions.emplace_back(a);
    out.push_back(json::object{{"type", s.type}, {"name", s.name}, {"actions", actions}});
  }
  return out;
}

Result<std::vector<ResourceScope>> fromAccessClaim(const json::value& access) {
  if (!access.is_array()) return invalid("access claim is not an array");
  const json::array& entries = access.get_array();
  if (entries.size() > kMaxScopes) return invalid("access claim too long");
  std::vector<ResourceScope> out;
  for (const json::value& v : entries) {
    if (!v.is_object()) return invalid("access entry is not an object");
    const json::object& o = v.get_object();
    auto type = o.find("type");
    auto name = o.find("name");
    auto actions = o.find("actions");
    if (type == o.end() || !type->value().is_string() || name == o.end() ||
        !name->value().is_string() || actions == o.end() || !actions->value().is_array()) {
      return invalid("access entry needs type, name and actions");
    }
    ResourceScope s;
    s.type = std::string(type->value().get_string());
    s.name = std::string(name->value().get_string());
    if (!isValidType(s.type)) return invalid("access entry type invalid");
    if (!isValidName(s.type, s.name)) return invalid("access entry name invalid");
    for (const json::value& a : actions->value().get_array()) {
      if (!a.is_string() || !isKnownAction(a.get_string())) {
        return invalid("access entry action unknown");
      }
      addAction(s.actions, a.get_string());
    }
    merge(out, std::move(s));
  }
  return out;
}

bool accessPermits(const std::vector<ResourceScope>& access, std::string_view type,
                   std::string_view name, std::string_view action) {
  for (const ResourceScope& s : access) {
    if (s.type != type || s.name != name) continue;
    for (const std::string& a : s.actions) {
      if (a == action || a == "*") return true;
    }
  }
  return false;
}

}  // namespace berth::auth
