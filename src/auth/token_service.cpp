#include "auth/token_service.h"


#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>

#include "auth/encoding.h"
#include "common/atomic_file.h"

namespace berth::auth {
namespace json = boost::json;

namespace {

constexpr const char* kTypeClaim = "typ_berth";
constexpr int64_t kLeewaySeconds = 0;  // issued and verified by this server: no clock skew
constexpr size_t kMaxIdentities = 64;

Error unauthorized(const char* what) { return makeError(Code::kUnauthorized, what); }

Result<TokenSubject> subjectFrom(const json::object& claims, bool with_versions) {
  TokenSubject s;
  auto sub = claims.find("sub");
  auto ids = claims.find("ids");
  if (sub == claims.end() || !sub->value().is_string() || ids == claims.end() ||
      !ids->value().is_array() || ids->value().get_array().size() > kMaxIdentities) {
    return unauthorized("token has no valid subject");
  }
  s.subject = std::string(sub->value().get_string());
  if (auto n = claims.find("name"); n != claims.end() && n->value().is_string()) {
    s.name = std::string(n->value().get_string());
  }
  for (const json::value& v : ids->value().get_array()) {
    if (!v.is_string()) return unauthorized("token has no valid subject");
    s.identity_ids.emplace_back(v.get_string());
  }
  if (with_versions) {
    auto vers = claims.find("ver");
    if (vers == claims.end() || !vers->value().is_array() ||
        vers->value().get_array().size() != s.identity_ids.size()) {
      return unauthorized("refresh token has no valid versions");
    }
    for (const json::value& v : vers->value().get_array()) {
      if (!v.is_int64()) return unauthorized("refresh token has no valid versions");
      s.versions.push_back(v.get_int64());
    }
  }
  return s;
}

}  // namespace

TokenService::TokenService(SigningKey key, TokenSettings settings)
    : key_(std::move(key)), settings_(std::move(settings)) {
  keys_.add(key_);
}

json::object TokenService::baseClaims(const TokenSubject& subject, const char* type, int64_t now,
                                      int64_t ttl) const {
  json::array ids;
  for (const auto& id : subject.identity_ids) ids.emplace_back(id);
  return json::object{{"iss", settings_.issuer},
                      {"sub", subject.subject},
                      {"name", subject.name},
                      {"aud", settings_.service},
                      {"iat", now},
                      {"nbf", now},
                      {"exp", now + ttl},
                      {"jti", base64UrlEncode(randomBytes(16))},
                      {kTypeClaim, type},
                      {"ids", std::move(ids)}};
}

IssuedToken TokenService::issueAccess(const TokenSubject& subject,
                                      const std::vector<ResourceScope>& access, int64_t now) const {
  json::object claims = baseClaims(subject, "access", now, settings_.access_ttl);
  claims["access"] = toAccessClaim(access);
  return {signJwt(key_, claims), now, now + settings_.access_ttl};
}

IssuedToken TokenService::issueRefresh(const TokenSubject& subject, int64_t now) const {
  json::object claims = baseClaims(subject, "refresh", now, settings_.refresh_ttl);
  json::array vers;
  for (int64_t v : subject.versions) vers.emplace_back(v);
  claims["ver"] = std::move(vers);
  return {signJwt(key_, claims), now, now + settings_.refresh_ttl};
}

Result<json::object> TokenService::verify(std::string_view token, const char* type,
                                          int64_t now) const {
  auto claims = verifyJwt(token, keys_, now, settings_.issuer, settings_.service, kLeewaySeconds);
  if (!claims) return claims.takeError();
  auto t = claims->find(kTypeClaim);
  if (t == claims->end() || !t->value().is_string() || t->value().get_string() != type) {
    return unauthorized(std::strcmp(type, "access") == 0 ? "not an access token"
                                                           : "not a refresh token");
  }
  return claims;
}

Result<AccessToken> TokenService::verifyAccess(std::string_view token, int64_t now) const {
  auto claims = verify(token, "access", now);
  if (!claims) return claims.takeError();
  AccessToken out;
  auto subject = subjectFrom(*claims, false);
  if (!subject) return subject.takeError();
  out.subject = std::move(*subject);
  auto access = claims->find("access");
  if (access == claims->end()) return unauthorized("access token has no access claim");
  auto parsed = fromAccessClaim(access->value());
  if (!parsed) return unauthorized("access token has an invalid access claim");
  out.access = std::move(*parsed);
  if (auto j = claims->find("jti"); j != claims->end() && j->value().is_string()) {
    out.jti = std::string(j->value().get_string());
  }
  out.expires_at = claims->at("exp").to_number<int64_t>();
  return out;
}

Result<TokenSubject> TokenService::verifyRefresh(std::string_view token, int64_t now,
                                                 int64_t* expires_at) const {
  auto claims = verify(token, "refresh", now);
  if (!claims) return claims.takeError();
  if (expires_at != nullptr) *expires_at = claims->at("exp").to_number<int64_t>();
  return subjectFrom(*claims, true);
}

Result<SigningKey> loadOrCreateSigningKey(const std::string& path) {
  auto cannotRead = [&](int err) {
    return makeError(Code::kIoError, path + ": cannot read the token signing key: " + std::strerror(err));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    std::string pem;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        return cannotRead(err);
      }
      if (n == 0) break;
      pem.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    auto key = SigningKey::fromPem(pem);
    if (!key) return makeError(Code::kInvalidArgument, path + ": " + key.error().message);
    return key;
  }
  // Only a key that is not there is made anew. Any other failure (no permission, a
  // symlink loop, an I/O error) would silently replace the key and end every token
  // issued with it: fatal instead. So is a symlink to nothing.
  const int err = errno;
  struct stat st {};
  if (err != ENOENT) return cannotRead(err);
  if (::lstat(path.c_str(), &st) == 0) return cannotRead(err);
  auto key = SigningKey::generate();
  if (!key) return key.takeError();
  if (auto s = writeFileAtomic(path, key->privateKeyPem()); !s) return s.takeError();
  return key;
}

}  // namespace berth::auth
