// The commands as a user runs them: argv through CLI11 into requests to a stub server.
#include "cli/commands.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdlib>

#include "cli/auth_file.h"
#include "cli/encoding.h"
#include "cli_test_util.h"
#include "stub_server.h"

namespace berth::cli {
namespace {

namespace json = boost::json;
using testing::readFile;
using testing::StubServer;
using testing::TempDir;

struct CommandRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"BERTH_REGISTRY", "BERTH_CA_FILE", "REGISTRY_AUTH_FILE"}) ::unsetenv(name);
    authfile_ = dir_.file("auth.json");
  }

  // Runs `berth ARGS... --authfile <scratch file>`.
  CommandRun berth(std::vector<std::string> args) {
    args.insert(args.begin(), "berth");
    args.push_back("--authfile");
    args.push_back(authfile_);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    CLI::App app{"berth"};
    app.require_subcommand(1);
    CommandRun run;
    addCommands(app, run.exit_code);
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    try {
      app.parse(int(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      run.exit_code = 100 + app.exit(e);
    }
    run.out = ::testing::internal::GetCapturedStdout();
    run.err = ::testing::internal::GetCapturedStderr();
    return run;
  }

  void storeToken(const StubServer& server, const std::string& token) {
    auto file = AuthFile::load(authfile_);
    file->setIdentityToken(server.authority(), token);
    ASSERT_TRUE(file->save());
  }

  TempDir dir_;
  std::string authfile_;
};

TEST_F(CommandsTest, LoginStoresTheRefreshTokenAsIdentityToken) {
  StubServer server({{200, R"({"access_token":"A","token":"A","expires_in":300,"refresh_token":"REFRESH"})"}});
  auto run = berth({"login", server.url(), "-u", "alice", "-p", "s3cret"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "Login Succeeded\n");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/oauth2/token");
  EXPECT_EQ(seen[0].body, "grant_type=password&username=alice&password=s3cret&service=127.0.0.1%3A" +
                              std::to_string(server.port()) + "&client_id=berth&access_type=offline");
  auto stored = json::parse(readFile(authfile_));
  EXPECT_EQ(stored.at("auths").at(server.authority()).at("identitytoken"), "REFRESH");
  EXPECT_EQ(stored.at("auths").at(server.authority()).at("auth"), json::value(base64Encode(std::string(kTokenUser) + ":")));
  EXPECT_EQ(testing::modeOf(authfile_), 0600u);
}

TEST_F(CommandsTest, FailedLoginLeavesTheAuthFileAlone) {
  StubServer server({{401, R"({"errors":[{"code":"UNAUTHORIZED","message":"invalid user name or password"}]})"}});
  auto run = berth({"login", server.url(), "-u", "alice", "-p", "wrong"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "error: login to " + server.authority() + " failed: invalid user name or password\n");
  EXPECT_FALSE(std::filesystem::exists(authfile_));
}

TEST_F(CommandsTest, LogoutRemovesTheEntry) {
  StubServer server({});
  storeToken(server, "T");
  auto run = berth({"logout", server.url()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(json::parse(readFile(authfile_)).at("auths").as_object().empty());
  run = berth({"logout", server.url()});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.err, "Not logged in to " + server.authority() + "\n");
}

TEST_F(CommandsTest, AdminCommandUsesTheStoredIdentityToken) {
  StubServer server({{200, R"({"users":[{"name":"alice","enabled":true}]})"}});
  storeToken(server, "REFRESH");
  auto run = berth({"user", "list", "-r", server.url()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/api/v1/users");
  EXPECT_EQ(seen[0].header("authorization"), basicAuthorization(kTokenUser, "REFRESH"));
  EXPECT_EQ(run.out, "{\n  \"users\": [\n    {\n      \"name\": \"alice\",\n      \"enabled\": true\n    }\n  ]\n}\n");
}

TEST_F(CommandsTest, RegistryFromTheEnvironmentAndTableOutput) {
  StubServer server({{200, R"({"users":[{"name":"alice","enabled":true}]})"}});
  storeToken(server, "T");
  ::setenv("BERTH_REGISTRY", server.url().c_str(), 1);
  auto run = berth({"user", "list", "-o", "table"});
  ::unsetenv("BERTH_REGISTRY");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "name   enabled\n-----  -------\nalice  true\n");
}

TEST_F(CommandsTest, ExplicitUserAndPasswordWin) {
  StubServer server({{200, R"({"name":"bob@example.com"})"}});
  storeToken(server, "T");
  auto run = berth({"user", "show", "bob@example.com", "-r", server.url(), "-u", "admin", "-p", "pw"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/api/v1/users/bob%40example.com");
  EXPECT_EQ(seen[0].header("authorization"), basicAuthorization("admin", "pw"));
}

TEST_F(CommandsTest, NoCredentialsSaysHowToLogIn) {
  StubServer server({});
  auto run = berth({"user", "list", "-r", server.url()});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("no credentials for " + server.authority()), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("berth login " + server.authority()), std::string::npos) << run.err;
}

TEST_F(CommandsTest, NoRegistrySaysWhereToGiveIt) {
  auto run = berth({"settings", "show"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "error: no registry: give -r/--registry or set BERTH_REGISTRY\n");
}

TEST_F(CommandsTest, ServerErrorGoesToStderrWithExitOne) {
  StubServer server({{403, R"({"errors":[{"code":"DENIED","message":"the owner role on * is required","detail":null}]})"}});
  storeToken(server, "T");
  auto run = berth({"user", "create", "carol", "-r", server.url()});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "error: the owner role on * is required\n");
}

TEST_F(CommandsTest, UserCreateAndUpdateBodies) {
  StubServer server({{201, R"({"name":"carol","password":"p"})"}, {200, R"({"name":"carol"})"}});
  storeToken(server, "T");
  auto run = berth({"user", "create", "-n", "carol", "--description", "Carol", "--status", "disabled", "-r", server.url()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  run = berth({"user", "update", "carol", "--new-password", "new", "-r", server.url()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(json::parse(seen[0].body), json::parse(R"({"description":"Carol","enabled":false,"name":"carol"})"));
  EXPECT_EQ(seen[1].method, "PATCH");
  EXPECT_EQ(seen[1].target, "/api/v1/users/carol");
  EXPECT_EQ(json::parse(seen[1].body), json::parse(R"({"password":"new"})"));
}

TEST_F(CommandsTest, ServicePrincipalNameIsOptional) {
  StubServer server({{201, R"({"name":"sp-0123abcd","password":"p"})"}});
  storeToken(server, "T");
  auto run = berth({"sp", "create", "-r", server.url()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(server.requests()[0].target, "/api/v1/service-principals");
  EXPECT_EQ(json::parse(server.requests()[0].body), json::parse("{}"));
}

TEST_F(CommandsTest, TokenCreateUpdateAndCredentials) {
  StubServer server({{201, "{}"}, {200, "{}"}, {201, R"({"name":"password2","value":"v","expiresOn":null})"}, {204, ""}});
  storeToken(server, "T");
  EXPECT_EQ(berth({"token", "create", "ci", "--scope-map", "team-a-read", "--expiration", "2027-01-01T00:00:00Z",
                   "-r", server.url()}).exit_code, 0);
  EXPECT_EQ(berth({"token", "update", "ci", "--no-expiration", "--status", "enabled", "-r", server.url()}).exit_code, 0);
  auto gen = berth({"token", "credential", "generate", "ci", "--password2", "--expiration-in-days", "30", "-r", server.url()});
  EXPECT_EQ(gen.exit_code, 0) << gen.err;
  EXPECT_EQ(berth({"token", "credential", "delete", "ci", "--password1", "-r", server.url()}).exit_code, 0);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(json::parse(seen[0].body),
            json::parse(R"({"name":"ci","scopeMap":"team-a-read","expiresOn":"2027-01-01T00:00:00Z"})"));
  EXPECT_EQ(seen[1].method, "PATCH");
  EXPECT_EQ(json::parse(seen[1].body), json::parse(R"({"enabled":true,"expiresOn":null})"));
  EXPECT_EQ(seen[2].target, "/api/v1/tokens/ci/credentials");
  auto body = json::parse(seen[2].body).as_object();
  EXPECT_EQ(body.at("name"), "password2");
  auto expires = std::string(body.at("expiresOn").as_string());
  EXPECT_EQ(expires.size(), 20u);
  EXPECT_EQ(expires.back(), 'Z');
  EXPECT_EQ(seen[3].method, "DELETE");
  EXPECT_EQ(seen[3].target, "/api/v1/tokens/ci/credentials/password1");
}

TEST_F(CommandsTest, TokenCredentialNeedsASlot) {
  StubServer server({});
  storeToken(server, "T");
  auto run = berth({"token", "credential", "generate", "ci", "-r", server.url()});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "error: give --password1 or --password2\n");
}

TEST_F(CommandsTest, ScopeMapCreateTakesRepositoryGroups) {
  StubServer server({{201, "{}"}});
  storeToken(server, "T");
  auto run = berth({"scope-map", "create", "team-a-rw", "--repository", "team-a/*", "content/read", "content/write",
                    "--repository", "shared/base", "content/read", "--description", "A", "-r", server.url()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(json::parse(server.requests()[0].body), json::parse(R"({"name":"team-a-rw","description":"A","repositories":[
      {"repository":"team-a/*","actions":["content/read","content/write"]},
      {"repository":"shared/base","actions":["content/read"]}]})"));
}

TEST_F(CommandsTest, ScopeMapUpdateReadsEditsAndPutsBack) {
  StubServer server({{200, R"({"name":"m","description":"keep","repositories":[
                          {"repository":"a","actions":["content/read","content/write"]}]})"},
                     {200, "{}"}});
  storeToken(server, "T");
  auto run = berth({"scope-map", "update", "m", "--add-repository", "b", "content/read", "--remove-repository", "a",
                    "content/write", "-r", server.url()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[1].method, "PUT");
  EXPECT_EQ(seen[1].target, "/api/v1/scope-maps/m");
  EXPECT_EQ(json::parse(seen[1].body), json::parse(R"({"description":"keep","repositories":[
      {"repository":"a","actions":["content/read"]},{"repository":"b","actions":["content/read"]}]})"));
}

TEST_F(CommandsTest, RoleCreateListAndDeleteByDescription) {
  StubServer server({{201, "{}"},
                     {200, R"({"roleAssignments":[]})"},
                     {200, R"({"roleAssignments":[{"id":"r1","identity":"alice","role":"push","scope":"*"},
                                                  {"id":"r2","identity":"alice","role":"pull","scope":"team-a/*"}]})"},
                     {204, ""}});
  storeToken(server, "T");
  EXPECT_EQ(berth({"role", "create", "--identity", "alice", "--role", "pull", "--scope", "team-a/*", "-r", server.url()}).exit_code, 0);
  EXPECT_EQ(berth({"role", "list", "--identity", "alice smith", "-r", server.url()}).exit_code, 0);
  auto del = berth({"role", "delete", "--identity", "alice", "--role", "pull", "--scope", "team-a/*", "-r", server.url()});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(del.out, "");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(json::parse(seen[0].body), json::parse(R"({"identity":"alice","role":"pull","scope":"team-a/*"})"));
  EXPECT_EQ(seen[1].target, "/api/v1/role-assignments?identity=alice%20smith");
  EXPECT_EQ(seen[2].target, "/api/v1/role-assignments?identity=alice");
  EXPECT_EQ(seen[3].method, "DELETE");
  EXPECT_EQ(seen[3].target, "/api/v1/role-assignments/r2");
}

TEST_F(CommandsTest, RoleRejectsAnUnknownRoleBeforeAnyRequest) {
  auto run = berth({"role", "create", "--identity", "alice", "--role", "admin", "--scope", "*", "-r", "http://127.0.0.1:1"});
  EXPECT_GT(run.exit_code, 100);  // a CLI11 parse error
}

TEST_F(CommandsTest, NetworkRules) {
  StubServer server({{201, "{}"}, {204, ""}, {200, "{}"}});
  storeToken(server, "T");
  EXPECT_EQ(berth({"network-rule", "add", "--ip-address", "10.0.0.0/8", "-r", server.url()}).exit_code, 0);
  EXPECT_EQ(berth({"network-rule", "remove", "--ip-address", "10.0.0.0/8", "-r", server.url()}).exit_code, 0);
  EXPECT_EQ(berth({"network-rule", "set-default", "deny", "-r", server.url()}).exit_code, 0);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].target, "/api/v1/network-rules/ip-rules");
  EXPECT_EQ(json::parse(seen[0].body), json::parse(R"({"value":"10.0.0.0/8"})"));
  EXPECT_EQ(seen[1].method, "DELETE");
  EXPECT_EQ(seen[1].target, "/api/v1/network-rules/ip-rules?value=10.0.0.0%2F8");
  EXPECT_EQ(seen[2].method, "PATCH");
  EXPECT_EQ(json::parse(seen[2].body), json::parse(R"({"defaultAction":"Deny"})"));
}

TEST_F(CommandsTest, SettingsAndFederated) {
  StubServer server({{200, R"({"anonymousPullEnabled":true})"}, {201, "{}"}});
  storeToken(server, "T");
  EXPECT_EQ(berth({"settings", "update", "--anonymous-pull", "true", "-r", server.url()}).exit_code, 0);
  EXPECT_EQ(berth({"federated", "create", "gh", "--issuer", "https://issuer.example", "--claim", "sub", "--value",
                   "repo:acme/app:ref:refs/heads/main", "-r", server.url()}).exit_code, 0);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "PATCH");
  EXPECT_EQ(json::parse(seen[0].body), json::parse(R"({"anonymousPullEnabled":true})"));
  EXPECT_EQ(seen[1].target, "/api/v1/federated-identities");
  EXPECT_EQ(json::parse(seen[1].body), json::parse(R"({"name":"gh","issuer":"https://issuer.example","claim":"sub",
                                                      "value":"repo:acme/app:ref:refs/heads/main"})"));
}

TEST_F(CommandsTest, WebhookRegionIsSentWhenGivenAndAnEmptyOneClearsIt) {
  StubServer server({{201, R"({"name":"hook1"})"}, {200, R"({"name":"hook1"})"}, {200, R"({"name":"hook1"})"}});
  storeToken(server, "T");
  EXPECT_EQ(berth({"webhook", "create", "hook1", "--uri", "http://ci.example/hook", "--actions", "push", "--region",
                   "eastus", "-r", server.url()}).exit_code, 0);
  EXPECT_EQ(berth({"webhook", "update", "hook1", "--region", "", "-r", server.url()}).exit_code, 0);
  EXPECT_EQ(berth({"webhook", "update", "hook1", "--status", "disabled", "-r", server.url()}).exit_code, 0);
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(json::parse(seen[0].body), json::parse(R"({"name":"hook1","serviceUri":"http://ci.example/hook",
                                                      "actions":["push"],"region":"eastus"})"));
  EXPECT_EQ(seen[1].target, "/api/v1/webhooks/hook1");
  EXPECT_EQ(json::parse(seen[1].body), json::parse(R"({"region":""})"));
  EXPECT_EQ(json::parse(seen[2].body), json::parse(R"({"status":"disabled"})"));  // region untouched
}

TEST_F(CommandsTest, UnreachableRegistry) {
  auto run = berth({"user", "list", "-r", "http://127.0.0.1:1", "-u", "a", "-p", "b"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err.substr(0, 40), "error: cannot reach http://127.0.0.1:1: ") << run.err;
}

}  // namespace
}  // namespace berth::cli
