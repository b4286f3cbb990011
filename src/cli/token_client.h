#pragma once
// The registry's OAuth2 token endpoint (POST /oauth2/token) from the client side, as
// `berth login` uses it: a password grant with access_type=offline, for a refresh token.
#include <string>
#include <string_view>

#include "cli/encoding.h"
#include "cli/http_client.h"
#include "cli/registry_url.h"
#include "common/result.h"

namespace berth::cli {

inline constexpr std::string_view kClientId = "berth";

// grant_type=password, username, password, service=<host[:port]>, client_id=berth,
// access_type=offline.
FormFields passwordGrantForm(const RegistryUrl& registry, std::string_view username, std::string_view password);

// The refresh_token of a token response. kUnauthorized / kDenied / ... with the server's
// message for an error status; kCorrupt if a 200 answer has no refresh_token.
Result<std::string> refreshTokenFromResponse(long status, std::string_view body);

// Sends the password grant and returns the refresh token.
Result<std::string> fetchRefreshToken(const RegistryUrl& registry, std::string_view username,
                                      std::string_view password, const HttpOptions& options);

}  // namespace berth::cli
