#include "auth/jwt.h"

#include <boost/json.hpp>
#include <cmath>
#include <limits>
#include <optional>

#include "auth/encoding.h"
#include "common/text.h"

namespace berth::auth {
namespace json = boost::json;


std::string signJwt(const SigningKey& key, const json::object& claims) {
  json::object header;
  header["alg"] = "ES256";
  header["typ"] = "JWT";
  header["kid"] = key.kid();
  std::string input =
      base64UrlEncode(json::serialize(header)) + "." + base64UrlEncode(json::serialize(claims));
  std::string signature = base64UrlEncode(key.sign(input));
  return input + "." + signature;
}

namespace {

Error unauthorized(const char* what) { return makeError(Code::kUnauthorized, what); }

// A NumericDate as whole seconds, rounded up (a fractional exp of 100.5 is reached at
// 101); nullopt if not a number.
std::optional<int64_t> numericDate(const json::value& v) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64())
    return v.get_uint64() > static_cast<uint64_t>(kMax) ? kMax
                                                        : static_cast<int64_t>(v.get_uint64());
  if (v.is_double()) {
    double d = v.get_double();
    if (!std::isfinite(d)) return std::nullopt;
    d = std::ceil(d);
    if (d >= 9.2e18) return kMax;
    if (d <= -9.2e18) return kMin;
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

int64_t saturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}

// "JWT" (RFC 7519) and "at+jwt" (RFC 9068 access tokens, as some OIDC providers send).
bool typAccepted(std::string_view typ) {
  return equalsIgnoreCase(typ, "jwt") || equalsIgnoreCase(typ, "at+jwt");
}

}  // namespace

Result<json::object> verifyJwt(std::string_view token, const KeySet& keys, int64_t now,
                               std::string_view expected_issuer, std::string_view expected_audience,
                               int64_t leeway_seconds) {
  if (expected_issuer.empty() || expected_audience.empty()) {
    return makeError(Code::kInternal, "token verifier has no issuer or audience");
  }
  if (leeway_seconds < 0) leeway_seconds = 0;
  if (token.size() > kMaxJwtBytes) return unauthorized("token too large");
  size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return unauthorized("token malformed");
  size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return unauthorized("token malformed");
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);
  if (header_b64.empty() || payload_b64.empty() || signature_b64.empty()) {
    return unauthorized("token malformed");
  }

  auto header_json = base64UrlDecode(header_b64);
  if (!header_json) return unauthorized("token header malformed");
  auto header = parseJsonObject(*header_json);
  if (!header) return unauthorized("token header malformed");
  auto alg_it = header->find("alg");
  if (alg_it == header->end() || !alg_it->value().is_string()) {
    return unauthorized("token algorithm missing");
  }
  std::string_view alg = alg_it->value().get_string();
  if (alg != "ES256" && alg != "RS256") return unauthorized("token algorithm not accepted");
  if (header->contains("crit")) return unauthorized("token critical header not supported");
  if (auto typ = header->find("typ"); typ != header->end()) {
    if (!typ->value().is_string() || !typAccepted(typ->value().get_string())) {
      return unauthorized("token type not accepted");
    }
  }
  auto kid_it = header->find("kid");
  if (kid_it == header->end() || !kid_it->value().is_string()) {
    return unauthorized("token key id missing");
  }
  const PublicKey* key = keys.find(kid_it->value().get_string());
  if (key == nullptr) return unauthorized("token key unknown");
  if (key->algorithm() != alg) return unauthorized("token algorithm does not match key");

  auto signature = base64UrlDecode(signature_b64);
  if (!signature) return unauthorized("token signature malformed");
  std::string_view signing_input = token.substr(0, dot2);
  if (!key->verify(alg, signing_input, *signature)) {
    return unauthorized("token signature invalid");
  }

  // Signed by a trusted key from here on; the claims are still checked strictly.
  auto payload_json = base64UrlDecode(payload_b64);
  if (!payload_json) return unauthorized("token claims malformed");
  auto claims = parseJsonObject(*payload_json);
  if (!claims) return unauthorized("token claims malformed");

  auto exp_it = claims->find("exp");
  if (exp_it == claims->end()) return unauthorized("token has no expiry");
  auto exp = numericDate(exp_it->value());
  if (!exp) return unauthorized("token expiry malformed");
  if (now >= saturatingAdd(*exp, leeway_seconds)) return unauthorized("token expired");
  int64_t latest = saturatingAdd(now, leeway_seconds);
  if (auto nbf_it = claims->find("nbf"); nbf_it != claims->end()) {
    auto nbf = numericDate(nbf_it->value());
    if (!nbf) return unauthorized("token not-before malformed");
    if (*nbf > latest) return unauthorized("token not yet valid");
  }
  if (auto iat_it = claims->find("iat"); iat_it != claims->end()) {
    auto iat = numericDate(iat_it->value());
    if (!iat) return unauthorized("token issued-at malformed");
    if (*iat > latest) return unauthorized("token issued in the future");
  }

  auto iss_it = claims->find("iss");
  if (iss_it == claims->end() || !iss_it->value().is_string() ||
      iss_it->value().get_string() != expected_issuer) {
    return unauthorized("token issuer mismatch");
  }
  auto aud_it = claims->find("aud");
  bool aud_ok = false;
  if (aud_it != claims->end()) {
    const json::value& aud = aud_it->value();
    if (aud.is_string()) {
      aud_ok = aud.get_string() == expected_audience;
    } else if (aud.is_array()) {
      for (const json::value& a : aud.get_array()) {
        if (!a.is_string()) {
          aud_ok = false;
          break;
        }
        if (a.get_string() == expected_audience) aud_ok = true;
      }
    }
  }
  if (!aud_ok) return unauthorized("token audience mismatch");
  return std::move(*claims);
}

}  // namespace berth::auth
