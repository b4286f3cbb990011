#include "cli/admin_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include "cli/token_client.h"
#include "stub_server.h"

namespace berth::cli {
namespace {

namespace json = boost::json;
using testing::StubServer;

RegistryUrl registryAt(const StubServer& server) { return *parseRegistryUrl(server.url()); }

// A port on which nothing listens (bound, then closed).
int closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(ServerErrorMessage, RegistryErrorBody) {
  EXPECT_EQ(serverErrorMessage(403, R"({"errors":[{"code":"DENIED","message":"owner role required","detail":null}]})"),
            "owner role required");
  EXPECT_EQ(serverErrorMessage(400, R"({"errors":[{"code":"A","message":"one"},{"code":"B","message":"two"}]})"),
            "one; two");
  EXPECT_EQ(serverErrorMessage(409, R"({"errors":[{"code":"CONFLICT"}]})"), "CONFLICT");
}

TEST(ServerErrorMessage, OAuthErrorBody) {
  EXPECT_EQ(serverErrorMessage(400, R"({"error":"invalid_grant","error_description":"wrong password"})"), "wrong password");
  EXPECT_EQ(serverErrorMessage(400, R"({"error":"invalid_request"})"), "invalid_request");
}

TEST(ServerErrorMessage, AnythingElseShowsStatusAndBody) {
  EXPECT_EQ(serverErrorMessage(502, ""), "HTTP 502");
  EXPECT_EQ(serverErrorMessage(502, "<html>Bad Gateway</html>"), "HTTP 502: \"<html>Bad Gateway</html>\"");
  EXPECT_EQ(serverErrorMessage(500, R"({"errors":[]})").substr(0, 8), "HTTP 500");
  EXPECT_EQ(serverErrorMessage(404, "x\ny").find('\n'), std::string::npos);
}

TEST(CodeForStatus, MapsTheApiStatuses) {
  EXPECT_EQ(codeForStatus(400), Code::kInvalidArgument);
  EXPECT_EQ(codeForStatus(401), Code::kUnauthorized);
  EXPECT_EQ(codeForStatus(403), Code::kDenied);
  EXPECT_EQ(codeForStatus(404), Code::kNotFound);
  EXPECT_EQ(codeForStatus(409), Code::kConflict);
  EXPECT_EQ(codeForStatus(500), Code::kInternal);
}

TEST(AdminClient, SendsJsonWithAuthorizationAndParsesTheAnswer) {
  StubServer server({{201, R"({"name":"alice","password":"gen"})"}});
  AdminClient client(registryAt(server), "Basic QQ==", {});
  auto answer = client.call("POST", "/api/v1/users", json::value(json::object{{"name", "alice"}}));
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->at("password"), "gen");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/api/v1/users");
  EXPECT_EQ(seen[0].header("authorization"), "Basic QQ==");
  EXPECT_EQ(seen[0].header("content-type"), "application/json");
  EXPECT_EQ(seen[0].header("expect"), "");
  EXPECT_EQ(json::parse(seen[0].body), json::parse(R"({"name":"alice"})"));
}

TEST(AdminClient, EmptyAnswerIsNull) {
  StubServer server({{204, ""}});
  AdminClient client(registryAt(server), "Basic QQ==", {});
  auto answer = client.call("DELETE", "/api/v1/users/alice");
  ASSERT_TRUE(answer);
  EXPECT_TRUE(answer->is_null());
  EXPECT_EQ(server.requests()[0].body, "");
  EXPECT_EQ(server.requests()[0].header("content-type"), "");
}

TEST(AdminClient, ErrorStatusCarriesTheServersMessage) {
  StubServer server({{409, R"({"errors":[{"code":"CONFLICT","message":"scope map team-a is used by token ci","detail":null}]})"}});
  AdminClient client(registryAt(server), "Basic QQ==", {});
  auto answer = client.call("DELETE", "/api/v1/scope-maps/team-a");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, Code::kConflict);
  EXPECT_EQ(answer.error().message, "scope map team-a is used by token ci");
}

TEST(AdminClient, NonJsonSuccessIsCorrupt) {
  StubServer server({{200, "<html>"}});
  AdminClient client(registryAt(server), "Basic QQ==", {});
  auto answer = client.call("GET", "/api/v1/users");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, Code::kCorrupt);
}

TEST(AdminClient, UnreachableRegistryNamesTheUrl) {
  int port = closedPort();
  AdminClient client(*parseRegistryUrl("http://127.0.0.1:" + std::to_string(port)), "Basic QQ==", {});
  auto answer = client.call("GET", "/api/v1/users");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, Code::kUnavailable);
  std::string prefix = "cannot reach http://127.0.0.1:" + std::to_string(port) + ": ";
  EXPECT_EQ(answer.error().message.substr(0, prefix.size()), prefix) << answer.error().message;
  EXPECT_GT(answer.error().message.size(), prefix.size());
}

TEST(AdminClient, MissingCaFileIsAClearError) {
  StubServer server({{200, "{}"}});
  AdminClient client(*parseRegistryUrl("https://" + server.authority()), "Basic QQ==",
                     HttpOptions{.ca_file = "/nonexistent/ca.pem"});
  auto answer = client.call("GET", "/api/v1/users");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, Code::kUnavailable);
  std::string prefix = "cannot reach https://" + server.authority() + ": ";
  EXPECT_EQ(answer.error().message.substr(0, prefix.size()), prefix);
  EXPECT_NE(answer.error().message.find("/nonexistent/ca.pem"), std::string::npos) << answer.error().message;
}

TEST(TokenClient, PasswordGrantForm) {
  auto registry = *parseRegistryUrl("http://127.0.0.1:5000");
  EXPECT_EQ(formEncode(passwordGrantForm(registry, "alice", "p&ss word")),
            "grant_type=password&username=alice&password=p%26ss+word&service=127.0.0.1%3A5000"
            "&client_id=berth&access_type=offline");
}

TEST(TokenClient, RefreshTokenFromResponse) {
  EXPECT_EQ(*refreshTokenFromResponse(200, R"({"access_token":"a","token":"a","expires_in":300,"refresh_token":"R"})"), "R");
  auto none = refreshTokenFromResponse(200, R"({"access_token":"a"})");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Code::kCorrupt);
  auto denied = refreshTokenFromResponse(401, R"({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]})");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, Code::kUnauthorized);
  EXPECT_EQ(denied.error().message, "bad credentials");
}

TEST(TokenClient, FetchPostsTheForm) {
  StubServer server({{200, R"({"access_token":"a","refresh_token":"R"})"}});
  auto token = fetchRefreshToken(registryAt(server), "alice", "pw", {});
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(*token, "R");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/oauth2/token");
  EXPECT_EQ(seen[0].header("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(seen[0].header("authorization"), "");
  EXPECT_EQ(seen[0].body, "grant_type=password&username=alice&password=pw&service=" +
                              std::string("127.0.0.1%3A") + std::to_string(server.port()) +
                              "&client_id=berth&access_type=offline");
}

}  // namespace
}  // namespace berth::cli
