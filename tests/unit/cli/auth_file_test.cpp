#include "cli/auth_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>

#include "cli/encoding.h"
#include "cli_test_util.h"

namespace berth::cli {
namespace {

namespace json = boost::json;
using testing::modeOf;
using testing::readFile;
using testing::TempDir;
using testing::writeFile;

AuthFile loaded(const std::string& path) {
  auto file = AuthFile::load(path);
  EXPECT_TRUE(file) << file.error().message;
  return std::move(*file);
}

json::value onDisk(const std::string& path) { return json::parse(readFile(path)); }

TEST(AuthFilePath, FlagThenEnvironmentThenHome) {
  EXPECT_EQ(*authFilePath("/x/flag.json", "/x/env.json", "/home/u"), "/x/flag.json");
  EXPECT_EQ(*authFilePath("", "/x/env.json", "/home/u"), "/x/env.json");
  EXPECT_EQ(*authFilePath("", "", "/home/u"), "/home/u/.docker/config.json");
  EXPECT_EQ(*authFilePath("", nullptr, "/home/u"), "/home/u/.docker/config.json");
  EXPECT_FALSE(authFilePath("", nullptr, nullptr));
}

TEST(AuthFile, MissingFileIsEmptyAndSaveCreatesParentsWithMode0600) {
  TempDir dir;
  std::string path = dir.file("home/.docker/config.json");
  auto file = loaded(path);
  EXPECT_TRUE(file.json().empty());
  EXPECT_FALSE(file.find("registry.example.com"));
  file.setIdentityToken("registry.example.com", "REFRESH");
  ASSERT_TRUE(file.save());
  EXPECT_EQ(modeOf(path), 0600u);
  EXPECT_EQ(modeOf(dir.file("home/.docker")), 0700u);
  auto expected = json::parse(R"({"auths":{"registry.example.com":{
      "auth":"MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==","identitytoken":"REFRESH"}}})");
  EXPECT_EQ(onDisk(path), expected);
}

TEST(AuthFile, MergeKeepsOtherRegistriesAndOtherKeys) {
  TempDir dir;
  std::string path = dir.file("config.json");
  writeFile(path, R"({"auths":{"docker.io":{"auth":"dTpw"},"127.0.0.1:5000":{"auth":"b2xkOm9sZA==","email":"x"}},
                      "credHelpers":{"gcr.io":"gcloud"},"psFormat":"table {{.ID}}"})");
  auto file = loaded(path);
  file.setIdentityToken("127.0.0.1:5000", "NEW");
  ASSERT_TRUE(file.save());
  auto v = onDisk(path).as_object();
  EXPECT_EQ(v.at("psFormat"), "table {{.ID}}");
  EXPECT_EQ(v.at("credHelpers").at("gcr.io"), "gcloud");
  EXPECT_EQ(v.at("auths").at("docker.io").at("auth"), "dTpw");
  // The old entry is replaced whole: no stale user:password next to the token.
  auto entry = v.at("auths").at("127.0.0.1:5000").as_object();
  EXPECT_EQ(entry.size(), 2u);
  EXPECT_EQ(entry.at("identitytoken"), "NEW");
}

TEST(AuthFile, ReplacesSchemePrefixedSpellingsOfTheSameRegistry) {
  TempDir dir;
  std::string path = dir.file("config.json");
  writeFile(path, R"({"auths":{"https://reg.example.com":{"auth":"dTpw"}}})");
  auto file = loaded(path);
  file.setIdentityToken("reg.example.com", "T");
  auto auths = file.json().at("auths").as_object();
  EXPECT_FALSE(auths.contains("https://reg.example.com"));
  EXPECT_TRUE(auths.contains("reg.example.com"));
}

TEST(AuthFile, FindPrefersTheIdentityToken) {
  TempDir dir;
  std::string path = dir.file("config.json");
  writeFile(path, R"({"auths":{
      "a.example":{"auth":")" + base64Encode("alice:pa:ss") + R"("},
      "b.example":{"auth":"MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==","identitytoken":"TOK"},
      "https://c.example":{"username":"carol","password":"pw"},
      "d.example":{"auth":"not base64!"},
      "e.example":{"auth":")" + base64Encode("no-colon") + R"("},
      "f.example":"not an object"}})");
  auto file = loaded(path);
  auto a = file.find("a.example");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->username, "alice");
  EXPECT_EQ(a->secret, "pa:ss");
  auto b = file.find("b.example");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->username, kTokenUser);
  EXPECT_EQ(b->secret, "TOK");
  auto c = file.find("c.example");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "carol");
  EXPECT_EQ(c->secret, "pw");
  EXPECT_FALSE(file.find("d.example"));
  EXPECT_FALSE(file.find("e.example"));
  EXPECT_FALSE(file.find("f.example"));
  EXPECT_FALSE(file.find("g.example"));
}

TEST(AuthFile, RemoveDropsOnlyThatRegistry) {
  TempDir dir;
  std::string path = dir.file("config.json");
  writeFile(path, R"({"auths":{"a":{"auth":"dTpw"},"http://b":{"auth":"dTpw"},"c":{"auth":"dTpw"}},"x":1})");
  auto file = loaded(path);
  EXPECT_TRUE(file.remove("b"));
  EXPECT_FALSE(file.remove("b"));
  EXPECT_FALSE(file.remove("nothing"));
  ASSERT_TRUE(file.save());
  EXPECT_EQ(onDisk(path), json::parse(R"({"auths":{"a":{"auth":"dTpw"},"c":{"auth":"dTpw"}},"x":1})"));
}

TEST(AuthFile, RemoveOnAFileWithoutAuths) {
  TempDir dir;
  auto file = loaded(dir.file("none.json"));
  EXPECT_FALSE(file.remove("a"));
}

TEST(AuthFile, InvalidFileIsAnErrorAndLeftAlone) {
  TempDir dir;
  for (std::string text : {"{not json", "[1,2]", R"({"auths":[]})", "\"s\""}) {
    std::string path = dir.file("bad.json");
    writeFile(path, text);
    auto file = AuthFile::load(path);
    ASSERT_FALSE(file) << text;
    EXPECT_EQ(file.error().code, Code::kInvalidArgument);
    EXPECT_NE(file.error().message.find(path), std::string::npos);
    EXPECT_EQ(readFile(path), text);
  }
}

TEST(AuthFile, EmptyFileIsAnEmptyObject) {
  TempDir dir;
  std::string path = dir.file("empty.json");
  writeFile(path, "\n");
  EXPECT_TRUE(loaded(path).json().empty());
}

TEST(AuthFile, SaveTightensTheModeOfAnExistingFile) {
  TempDir dir;
  std::string path = dir.file("config.json");
  writeFile(path, "{}");
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto file = loaded(path);
  file.setIdentityToken("r", "t");
  ASSERT_TRUE(file.save());
  EXPECT_EQ(modeOf(path), 0600u);
}

TEST(AuthFile, SaveIsAtomicRenameLeavingNoTemporaryFile) {
  TempDir dir;
  std::string path = dir.file("config.json");
  writeFile(path, R"({"auths":{}})");
  // A reader holding the old file keeps the old contents: the new file is a new inode.
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  auto file = loaded(path);
  file.setIdentityToken("r", "t");
  ASSERT_TRUE(file.save());
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
  // Written the way docker writes it: tab-indented JSON.
  EXPECT_NE(readFile(path).find("\n\t\"auths\": {\n\t\t\"r\": {"), std::string::npos);
}

TEST(AuthFile, SaveThroughASymlinkReplacesTheTarget) {
  TempDir dir;
  std::string target = dir.file("real.json");
  std::string link = dir.file("link.json");
  writeFile(target, "{}");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto file = loaded(link);
  file.setIdentityToken("r", "t");
  ASSERT_TRUE(file.save());
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_TRUE(loaded(target).find("r"));
}

TEST(AuthFile, SaveFailureIsAnErrorAndKeepsTheOldFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories";
  TempDir dir;
  std::string sub = dir.file("ro");
  std::filesystem::create_directory(sub);
  std::string path = sub + "/config.json";
  writeFile(path, "{}");
  ASSERT_EQ(::chmod(sub.c_str(), 0500), 0);
  auto file = loaded(path);
  file.setIdentityToken("r", "t");
  auto s = file.save();
  ::chmod(sub.c_str(), 0700);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kIoError);
  EXPECT_EQ(readFile(path), "{}");
}

TEST(AuthFile, FailedRenameIsAnErrorAndLeavesNoTemporaryFile) {
  TempDir dir;
  std::string path = dir.file("config.json");
  auto file = loaded(path);
  file.setIdentityToken("r", "t");
  // Something that rename(2) cannot replace now sits where the file goes.
  std::filesystem::create_directories(path + "/occupied");
  auto s = file.save();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, Code::kIoError);
  EXPECT_NE(s.error().message.find(path), std::string::npos);
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(AuthFile, CredentialHelpers) {
  TempDir dir;
  std::string path = dir.file("config.json");
  writeFile(path, R"({"credHelpers":{"gcr.io":"gcloud"}})");
  EXPECT_TRUE(loaded(path).usesCredentialHelper("gcr.io"));
  EXPECT_FALSE(loaded(path).usesCredentialHelper("other"));
  writeFile(path, R"({"credsStore":"desktop"})");
  EXPECT_TRUE(loaded(path).usesCredentialHelper("other"));
  writeFile(path, R"({"credsStore":""})");
  EXPECT_FALSE(loaded(path).usesCredentialHelper("other"));
}

}  // namespace
}  // namespace berth::cli
