#include "api/access.h"

namespace berth::api {

std::string challengeScope(const Requirement& req, std::string_view repository) {
  if (req.kind == Requirement::Kind::kRepository) {
    return "repository:" + std::string(repository) + ":" + std::string(req.actions);
  }
  if (req.kind == Requirement::Kind::kCatalog) return "registry:catalog:*";
  if (req.kind == Requirement::Kind::kDeletedCatalog) return "registry:deleted_catalog:*";
  return {};
}

std::string bearerChallenge(std::string_view realm, std::string_view service,
                            std::string_view scope, std::string_view error) {
  std::string out = "Bearer realm=\"";
  out += realm;
  out += "\",service=\"";
  out += service;
  out += '"';
  if (!scope.empty()) {
    out += ",scope=\"";
    out += scope;
    out += '"';
  }
  if (!error.empty()) {
    out += ",error=\"";
    out += error;
    out += '"';
  }
  return out;
}

}  // namespace berth::api
