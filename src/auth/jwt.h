#pragma once
// JSON Web Tokens (RFC 7519) in JWS compact form (RFC 7515).
//
// Berth signs its own registry tokens with ES256 (ECDSA P-256, SHA-256). Verification
// accepts ES256 and RS256 only, and each only with a key of the matching type, so no
// algorithm confusion is possible: "none", HS*, PS*, ES384... are refused, an RSA key
// never verifies an ES256 token and vice versa, and header parameters that point at keys
// (jwk, jku, x5u, x5c) are never followed. RSA keys come from JWKS documents (OIDC
// federation); they are verified but never used to sign.
// ECDSA signatures are malleable ((r, s) and (r, n - s) both verify), so a token's string
// is no identifier: revoke by a claim (jti), and expect a cache keyed by the token string
// to miss on such a variant (it is then verified afresh).
#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/keys.h"
#include "common/result.h"

namespace berth::auth {

// Largest token verifyJwt looks at; longer input is refused before any parsing.
inline constexpr size_t kMaxJwtBytes = 64 * 1024;

// header.payload.signature with header {"alg":"ES256","typ":"JWT","kid":key.kid()}.
std::string signJwt(const SigningKey& key, const boost::json::object& claims);

// Verifies a compact JWS JWT and returns its claims. Checks, in order: size, exactly
// three base64url parts, header is a JSON object with alg ES256 or RS256, no "crit",
// typ (if present) "JWT" or "at+jwt" in any case, a "kid" found in `keys` whose type
// matches alg, the signature; then the claims: a JSON object, "exp" required and
// now < exp + leeway, "nbf" (if present) <= now + leeway, "iat" (if present)
// <= now + leeway, "iss" equal to expected_issuer, "aud" (string, or array of strings
// containing) expected_audience. Time claims must be numbers.
// Any failure is kUnauthorized with a fixed message naming the check; the message never
// contains token material. An empty expected_issuer/audience is a caller bug: kInternal.
Result<boost::json::object> verifyJwt(std::string_view token, const KeySet& keys, int64_t now,
                                      std::string_view expected_issuer,
                                      std::string_view expected_audience,
                                      int64_t leeway_seconds = 0);

}  // namespace berth::auth
