#include "cli/token_client.h"

#include <boost/json/parse.hpp>

#include "cli/admin_client.h"

namespace berth::cli {

FormFields passwordGrantForm(const RegistryUrl& registry, std::string_view username, std::string_view password) {
  return {{"grant_type", "password"},
          {"username", std::string(username)},
          {"password", std::string(password)},
          {"service", registry.authority()},
          {"client_id", std::string(kClientId)},
          {"access_type", "offline"}};
}

Result<std::string> refreshTokenFromResponse(long status, std::string_view body) {
  if (status < 200 || status > 299) return makeError(codeForStatus(status), serverErrorMessage(status, body));
  boost::system::error_code ec;
  auto parsed = boost::json::parse(body, ec);
  if (!ec && parsed.is_object()) {
    const auto* token = parsed.get_object().if_contains("refresh_token");
    if (token && token->is_string() && !token->get_string().empty()) return std::string(token->get_string());
  }
  return makeError(Code::kCorrupt, "the registry's token answer has no refresh_token");
}

Result<std::string> fetchRefreshToken(const RegistryUrl& registry, std::string_view username,
                                      std::string_view password, const HttpOptions& options) {
  HttpRequest request;
  request.method = "POST";
  request.url = registry.base() + "/oauth2/token";
  request.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
  request.body = formEncode(passwordGrantForm(registry, username, password));
  auto response = HttpClient(options).send(request);
  if (!response) return response.takeError();
  return refreshTokenFromResponse(response->status, response->body);
}

}  // namespace berth::cli
