#include "cli/output.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace berth::cli {
namespace {

namespace json = boost::json;

TEST(PrettyJson, IndentsAndKeepsMemberOrder) {
  auto v = json::parse(R"({"name":"alice","roles":[{"role":"pull","scope":"*"}],"empty":{},"none":[],"n":null,"on":true})");
  EXPECT_EQ(prettyJson(v),
            "{\n"
            "  \"name\": \"alice\",\n"
            "  \"roles\": [\n"
            "    {\n"
            "      \"role\": \"pull\",\n"
            "      \"scope\": \"*\"\n"
            "    }\n"
            "  ],\n"
            "  \"empty\": {},\n"
            "  \"none\": [],\n"
            "  \"n\": null,\n"
            "  \"on\": true\n"
            "}\n");
}

TEST(PrettyJson, TabIndentAndEscapes) {
  auto v = json::parse(R"({"a\"b":"x\ny"})");
  EXPECT_EQ(prettyJson(v, "\t"), "{\n\t\"a\\\"b\": \"x\\ny\"\n}\n");
  EXPECT_EQ(json::parse(prettyJson(v, "\t")), v);
  EXPECT_EQ(prettyJson(json::value(42)), "42\n");
}

TEST(TableText, ListAnswerIsOneRowPerItem) {
  auto v = json::parse(R"({"users":[{"name":"alice","enabled":true,"roles":[]},
                                     {"name":"bob","enabled":false,"description":"B"}]})");
  EXPECT_EQ(tableText(v),
            "name   enabled  roles  description\n"
            "-----  -------  -----  -----------\n"
            "alice  true\n"  // an empty list is an empty cell
            "bob    false           B\n");
}

TEST(TableText, StringArraysJoinWithCommas) {
  auto v = json::parse(R"([{"repository":"team-a/*","actions":["content/read","content/write"]}])");
  EXPECT_EQ(tableText(v),
            "repository  actions\n"
            "----------  --------------------------\n"
            "team-a/*    content/read,content/write\n");
}

TEST(TableText, SingleObjectIsNameValueRows) {
  auto v = json::parse(R"({"defaultAction":"Deny","ipRules":[{"value":"10.0.0.0/8"}]})");
  EXPECT_EQ(tableText(v),
            "NAME           VALUE\n"
            "-------------  ------------------------\n"
            "defaultAction  Deny\n"
            "ipRules        [{\"value\":\"10.0.0.0/8\"}]\n");
}

}  // namespace
}  // namespace berth::cli
