#include "auth/token_service.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "auth/encoding.h"
#include "auth/jwt.h"
#include "auth_test_util.h"

namespace berth::auth {
namespace {
namespace json = boost::json;

constexpr int64_t kNow = 1'700'000'000;

SigningKey newKey() {
  auto k = SigningKey::generate();
  EXPECT_TRUE(k);
  return *k;
}

TokenSubject alice() { return TokenSubject{"id-alice", "alice", {"id-alice"}, {3}}; }

std::vector<ResourceScope> pullPush() {
  return {ResourceScope{"repository", "team/app", {"pull", "push"}}};
}

TokenSettings settings(std::string issuer = "berth", std::string service = "berth") {
  TokenSettings s;
  s.issuer = std::move(issuer);
  s.service = std::move(service);
  s.access_ttl = 300;
  s.refresh_ttl = 3600;
  return s;
}

class TokenServiceTest : public ::testing::Test {
 protected:
  SigningKey key_ = newKey();
  TokenService tokens_{key_, settings()};
};

TEST_F(TokenServiceTest, AccessTokenRoundTrip) {
  IssuedToken t = tokens_.issueAccess(alice(), pullPush(), kNow);
  EXPECT_EQ(t.issued_at, kNow);
  EXPECT_EQ(t.expires_at, kNow + 300);
  auto v = tokens_.verifyAccess(t.token, kNow + 1);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->subject.subject, "id-alice");
  EXPECT_EQ(v->subject.name, "alice");
  EXPECT_EQ(v->subject.identity_ids, std::vector<std::string>{"id-alice"});
  EXPECT_TRUE(v->subject.versions.empty());  // versions live in refresh tokens only
  EXPECT_EQ(v->access, pullPush());
  EXPECT_EQ(v->expires_at, kNow + 300);
  EXPECT_FALSE(v->jti.empty());
}

TEST_F(TokenServiceTest, EachTokenHasItsOwnJti) {
  auto a = tokens_.verifyAccess(tokens_.issueAccess(alice(), {}, kNow).token, kNow);
  auto b = tokens_.verifyAccess(tokens_.issueAccess(alice(), {}, kNow).token, kNow);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->jti, b->jti);
  EXPECT_TRUE(a->access.empty());
}

TEST_F(TokenServiceTest, RefreshTokenRoundTripKeepsVersions) {
  TokenSubject federated{"oidc:https://idp#u1", "u1@example.com", {"id-a", "id-b"}, {1, 7}};
  IssuedToken t = tokens_.issueRefresh(federated, kNow);
  EXPECT_EQ(t.expires_at, kNow + 3600);
  auto v = tokens_.verifyRefresh(t.token, kNow + 3599);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, federated);
}

TEST_F(TokenServiceTest, AccessTokenIsNotARefreshToken) {
  IssuedToken t = tokens_.issueAccess(alice(), pullPush(), kNow);
  auto v = tokens_.verifyRefresh(t.token, kNow);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Code::kUnauthorized);
}

TEST_F(TokenServiceTest, RefreshTokenIsNotAnAccessToken) {
  IssuedToken t = tokens_.issueRefresh(alice(), kNow);
  auto v = tokens_.verifyAccess(t.token, kNow);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, Code::kUnauthorized);
}

TEST_F(TokenServiceTest, TokenWithoutTypeClaimIsRefused) {
  // Same key, issuer and audience, but no typ_berth: e.g. a JWT some other tool signed.
  json::object claims{{"iss", "berth"}, {"aud", "berth"}, {"sub", "id-alice"},
                      {"exp", kNow + 60}, {"ids", json::array{"id-alice"}},
                      {"access", json::array{}}, {"ver", json::array{1}}};
  std::string token = signJwt(key_, claims);
  EXPECT_FALSE(tokens_.verifyAccess(token, kNow));
  EXPECT_FALSE(tokens_.verifyRefresh(token, kNow));
}

TEST_F(TokenServiceTest, ExpiredAtExp) {
  IssuedToken a = tokens_.issueAccess(alice(), pullPush(), kNow);
  EXPECT_TRUE(tokens_.verifyAccess(a.token, a.expires_at - 1));
  EXPECT_FALSE(tokens_.verifyAccess(a.token, a.expires_at));
  EXPECT_FALSE(tokens_.verifyAccess(a.token, a.expires_at + 1000));
  IssuedToken r = tokens_.issueRefresh(alice(), kNow);
  EXPECT_TRUE(tokens_.verifyRefresh(r.token, r.expires_at - 1));
  EXPECT_FALSE(tokens_.verifyRefresh(r.token, r.expires_at));
}

TEST_F(TokenServiceTest, OtherServiceOrIssuerRefused) {
  TokenService other_service(key_, settings("berth", "other-registry"));
  TokenService other_issuer(key_, settings("someone-else", "berth"));
  for (const TokenService* issuer : {&other_service, &other_issuer}) {
    IssuedToken a = issuer->issueAccess(alice(), pullPush(), kNow);
    IssuedToken r = issuer->issueRefresh(alice(), kNow);
    EXPECT_TRUE(issuer->verifyAccess(a.token, kNow));  // valid where it was issued
    EXPECT_FALSE(tokens_.verifyAccess(a.token, kNow));
    EXPECT_FALSE(tokens_.verifyRefresh(r.token, kNow));
  }
}

TEST_F(TokenServiceTest, OtherSigningKeyRefused) {
  TokenService forger(newKey(), settings());
  IssuedToken a = forger.issueAccess(alice(), pullPush(), kNow);
  IssuedToken r = forger.issueRefresh(alice(), kNow);
  EXPECT_FALSE(tokens_.verifyAccess(a.token, kNow));
  EXPECT_FALSE(tokens_.verifyRefresh(r.token, kNow));
}

// Replaces the payload of `token`, keeping header and signature.
std::string withPayload(const std::string& token, const json::object& claims) {
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  return token.substr(0, first + 1) + base64UrlEncode(json::serialize(claims)) +
         token.substr(second);
}

json::object payloadOf(const std::string& token) {
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  auto decoded = base64UrlDecode(std::string_view(token).substr(first + 1, second - first - 1));
  EXPECT_TRUE(decoded);
  auto obj = parseJsonObject(decoded.value_or("{}"));
  EXPECT_TRUE(obj);
  return obj.value_or(json::object{});
}

TEST_F(TokenServiceTest, ModifiedPayloadRefused) {
  IssuedToken a = tokens_.issueAccess(alice(), pullPush(), kNow);
  json::object claims = payloadOf(a.token);
  ASSERT_EQ(claims["sub"], "id-alice");

  json::object widened = claims;
  widened["access"] = toAccessClaim({ResourceScope{"repository", "*", {"*"}}});
  EXPECT_FALSE(tokens_.verifyAccess(withPayload(a.token, widened), kNow));

  json::object longer = claims;
  longer["exp"] = kNow + 100000;
  EXPECT_FALSE(tokens_.verifyAccess(withPayload(a.token, longer), kNow + 1000));

  EXPECT_TRUE(tokens_.verifyAccess(a.token, kNow));  // the original still verifies
}

TEST_F(TokenServiceTest, ModifiedRefreshVersionsRefused) {
  IssuedToken r = tokens_.issueRefresh(alice(), kNow);
  json::object claims = payloadOf(r.token);
  claims["ver"] = json::array{4};  // pretend it was issued after the password change
  EXPECT_FALSE(tokens_.verifyRefresh(withPayload(r.token, claims), kNow));
}

TEST_F(TokenServiceTest, GarbageRefused) {
  for (std::string_view t : {"", "a.b.c", "not-a-jwt", "..", "eyJ.eyJ.AAAA"}) {
    EXPECT_FALSE(tokens_.verifyAccess(t, kNow)) << t;
    EXPECT_FALSE(tokens_.verifyRefresh(t, kNow)) << t;
  }
}

class KeyFileTest : public ::testing::Test {
 protected:
  testing::ScratchDir tmp_;
  std::filesystem::path dir_ = tmp_.path();
};

TEST_F(KeyFileTest, CreatesA0600FileAndLoadsTheSameKeyNextTime) {
  const std::string path = (dir_ / "signing.pem").string();
  auto created = loadOrCreateSigningKey(path);
  ASSERT_TRUE(created) << created.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  auto loaded = loadOrCreateSigningKey(path);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->kid(), created->kid());

  // The loaded key verifies what the created one signed: it is the same private key.
  TokenService before(*created, settings());
  TokenService after(*loaded, settings());
  EXPECT_TRUE(after.verifyAccess(before.issueAccess(alice(), {}, kNow).token, kNow));
}

TEST_F(KeyFileTest, TwoFilesAreTwoKeys) {
  auto a = loadOrCreateSigningKey((dir_ / "a.pem").string());
  auto b = loadOrCreateSigningKey((dir_ / "b.pem").string());
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->kid(), b->kid());
}

TEST_F(KeyFileTest, GarbageFileRefusedWithItsPath) {
  const std::string path = (dir_ / "garbage.pem").string();
  std::ofstream(path) << "this is not a PEM key\n";
  auto key = loadOrCreateSigningKey(path);
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find(path), std::string::npos) << key.error().message;
  // The file is left alone, not replaced by a fresh key.
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "this is not a PEM key\n");
}

// Only a missing key file may be replaced by a new key: one that exists but cannot be
// read would silently end every token issued with it.
TEST_F(KeyFileTest, UnreadableKeyFileIsFatalNotReplaced) {
  const std::string loop = (dir_ / "loop.pem").string();
  std::filesystem::create_symlink("loop.pem", loop);  // ELOOP, even for root
  auto key = loadOrCreateSigningKey(loop);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Code::kIoError);
  EXPECT_NE(key.error().message.find(loop), std::string::npos) << key.error().message;
  EXPECT_TRUE(std::filesystem::is_symlink(loop));

  const std::string dangling = (dir_ / "dangling.pem").string();
  std::filesystem::create_symlink("nothing-here.pem", dangling);
  EXPECT_FALSE(loadOrCreateSigningKey(dangling));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "nothing-here.pem"));

  // EACCES: a key file the server's user may not read, in a directory it may write.
  const std::string locked = (dir_ / "locked.pem").string();
  auto original = loadOrCreateSigningKey(locked);
  ASSERT_TRUE(original) << original.error().message;
  ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  auto attempt = [&]() -> int {
    auto k = loadOrCreateSigningKey(locked);
    if (k) return 1;
    if (k.error().code != Code::kIoError) return 2;
    if (k.error().message.find(locked) == std::string::npos) return 3;
    if (k.error().message.find("Permission denied") == std::string::npos) return 4;
    return 0;
  };
  if (::geteuid() == 0) {
    // Root reads anything: try as nobody, in a child.
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
      ::_exit(attempt());
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  } else {
    EXPECT_EQ(attempt(), 0);
  }
  ASSERT_EQ(::chmod(locked.c_str(), 0600), 0);
  auto after = loadOrCreateSigningKey(locked);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after->kid(), original->kid());  // the same key, not a new one
}

TEST_F(KeyFileTest, UnwritableDirectoryFails) {
  auto key = loadOrCreateSigningKey((dir_ / "missing-dir" / "key.pem").string());
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Code::kIoError);
}

}  // namespace
}  // namespace berth::auth
