#pragma once
// The admin API (/api/v1, docs/api.md) from the client side: JSON in, JSON out, the
// server's error message out of its error body.
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "cli/http_client.h"
#include "cli/registry_url.h"
#include "common/result.h"

namespace berth::cli {

// The message to show for a failed answer: the messages of the registry's error body
// ({"errors":[{"code","message"}]}) or of an OAuth2 error ({"error","error_description"}),
// else "HTTP <status>" and the start of the body.
std::string serverErrorMessage(long status, std::string_view body);

// The Code for an HTTP error status (401 kUnauthorized, 403 kDenied, 404 kNotFound, ...).
Code codeForStatus(long status);

class AdminClient {
 public:
  // `authorization` is the whole Authorization header value ("Basic ...").
  AdminClient(RegistryUrl registry, std::string authorization, HttpOptions options);

  // Sends `method` to base + `path` (path and query already encoded) with `body` as JSON
  // if given. The parsed answer, or null for an empty one (204). A non-2xx answer is an
  // Error with codeForStatus and serverErrorMessage; an unparsable 2xx is kCorrupt.
  Result<boost::json::value> call(std::string_view method, std::string_view path,
                                  const std::optional<boost::json::value>& body = std::nullopt) const;

  const RegistryUrl& registry() const { return registry_; }

 private:
  RegistryUrl registry_;
  std::string authorization_;
  HttpClient http_;
};

}  // namespace berth::cli
