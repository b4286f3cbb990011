#include "oci/reference.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::oci {
namespace {

TEST(NameTest, AcceptsValidNames) {
  for (std::string_view n :
       {"a", "0", "library/ubuntu", "a/b/c", "foo.bar_baz__q--x", "a-b", "a---b", "a__b", "a.b.c",
        "a_b", "1/2/3", "my-org/my.repo/sub_path", "x9/y8"}) {
    EXPECT_TRUE(validateName(n).ok()) << n;
  }
}

void expectInvalid(std::string_view name, std::string_view message_part) {
  Status s = validateName(name);
  ASSERT_FALSE(s.ok()) << name;
  EXPECT_EQ(s.code(), Code::kNameInvalid) << name;
  EXPECT_NE(s.error().message.find(message_part), std::string::npos)
      << name << " -> " << s.error().message;
}

TEST(NameTest, RejectsWithMessageSayingWhatIsWrong) {
  expectInvalid("", "empty");
  expectInvalid("A", "uppercase letter 'A'");
  expectInvalid("library/Ubuntu", "component 2 contains uppercase");
  expectInvalid("a//b", "component 2 is empty");
  expectInvalid("/a", "component 1 is empty");
  expectInvalid("a/", "component 2 is empty");
  expectInvalid("../x", "\"..\"");
  expectInvalid("a/../b", "component 2 is \"..\"");
  expectInvalid("./a", "\".\"");
  expectInvalid("a/..", "\"..\"");
  expectInvalid("a%2fb", "invalid character '%'");
  expectInvalid("a%2e%2e", "'%'");
  expectInvalid("a b", "invalid character ' '");
  expectInvalid("a:b", "':'");
  expectInvalid("a\\b", "'\\'");
  expectInvalid(std::string_view("a\0b", 3), "byte 0x00");
  expectInvalid("a\xc3\xa9", "byte 0xc3");
  expectInvalid("-a", "start");
  expectInvalid(".a", "start");
  expectInvalid("_a", "start");
  expectInvalid("a-", "end");
  expectInvalid("a.", "end");
  expectInvalid("a_", "end");
  expectInvalid("a..b", "separator \"..\"");
  expectInvalid("a___b", "separator \"___\"");
  expectInvalid("a.-b", "separator \".-\"");
  expectInvalid("a-.b", "separator");
  expectInvalid("a._b", "separator");
  expectInvalid("a_-b", "separator");
}

TEST(NameTest, LengthLimitIs255) {
  std::string name(255, 'a');
  EXPECT_TRUE(validateName(name).ok());
  name += 'a';
  expectInvalid(name, "longer than 255");
  std::string path;
  while (path.size() < 253) path += "ab/";
  path.resize(255);
  if (path.back() == '/') path.back() = 'c';
  EXPECT_TRUE(validateName(path).ok()) << path;
  expectInvalid(std::string(100000, 'a'), "longer than 255");
}

TEST(TagTest, AcceptsValidTags) {
  std::string longest = "a" + std::string(127, 'B');
  for (std::string_view t : std::initializer_list<std::string_view>{
           "latest", "v1.2.3", "_x", "1", "A-b_c.d", "sha256-abc.sig", std::string_view(longest)}) {
    EXPECT_TRUE(validateTag(t).ok()) << t;
  }
}

TEST(TagTest, RejectsInvalidTags) {
  for (std::string_view t : {"", ".x", "-x", "a:b", "a/b", "a b", "a+b", "a%b", "a\n"}) {
    Status s = validateTag(t);
    ASSERT_FALSE(s.ok()) << t;
    EXPECT_EQ(s.code(), Code::kTagInvalid) << t;
  }
  Status s = validateTag("a" + std::string(128, 'b'));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("128"), std::string::npos);
}

TEST(ReferenceTest, ParsesTagsAndDigests) {
  auto tag = parseReference("v1");
  ASSERT_TRUE(tag.ok());
  EXPECT_FALSE(tag->isDigest());
  EXPECT_EQ(tag->tag(), "v1");
  EXPECT_EQ(tag->str(), "v1");

  std::string d = digestOf("x").str();
  auto dig = parseReference(d);
  ASSERT_TRUE(dig.ok());
  EXPECT_TRUE(dig->isDigest());
  EXPECT_EQ(dig->digest(), digestOf("x"));
  EXPECT_EQ(dig->str(), d);
}

TEST(ReferenceTest, ErrorCodes) {
  EXPECT_EQ(parseReference("").code(), Code::kTagInvalid);
  EXPECT_EQ(parseReference("-bad").code(), Code::kTagInvalid);
  EXPECT_EQ(parseReference("sha256:abc").code(), Code::kDigestInvalid);
  EXPECT_EQ(parseReference("a:b:c").code(), Code::kDigestInvalid);
  EXPECT_EQ(parseReference("md5:d41d8cd98f00b204e9800998ecf8427e").code(), Code::kUnsupported);
}

}  // namespace
}  // namespace berth::oci
