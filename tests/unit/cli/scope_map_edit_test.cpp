#include "cli/scope_map_edit.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace berth::cli {
namespace {

namespace json = boost::json;

TEST(ParseRepositoryGroups, RepositoryThenActions) {
  auto groups = parseRepositoryGroups({{"team-a/*", "content/read", "content/write"}, {"x", "metadata/read"}}, "--repository");
  ASSERT_TRUE(groups);
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].repository, "team-a/*");
  EXPECT_EQ((*groups)[0].actions, (std::vector<std::string>{"content/read", "content/write"}));
  EXPECT_EQ((*groups)[1].repository, "x");
}

TEST(ParseRepositoryGroups, AGroupNeedsAnAction) {
  auto groups = parseRepositoryGroups({{"team-a/*", "content/read"}, {"lonely"}}, "--add-repository");
  ASSERT_FALSE(groups);
  EXPECT_EQ(groups.error().code, Code::kInvalidArgument);
  EXPECT_NE(groups.error().message.find("--add-repository lonely"), std::string::npos);
}

TEST(EditRepositories, CreateMergesRepeatedRepositories) {
  auto out = editRepositories({}, {{"a", {"content/read"}}, {"b", {"content/read"}}, {"a", {"content/write", "content/read"}}}, {});
  EXPECT_EQ(json::value(out), json::parse(R"([{"repository":"a","actions":["content/read","content/write"]},
                                              {"repository":"b","actions":["content/read"]}])"));
}

TEST(EditRepositories, AddAppendsToTheEntryOrAddsOne) {
  auto current = json::parse(R"([{"repository":"a","actions":["content/read"]}])").as_array();
  auto out = editRepositories(current, {{"a", {"content/write"}}, {"c", {"metadata/read"}}}, {});
  EXPECT_EQ(json::value(out), json::parse(R"([{"repository":"a","actions":["content/read","content/write"]},
                                              {"repository":"c","actions":["metadata/read"]}])"));
}

TEST(EditRepositories, RemoveTakesActionsAndEmptyEntriesAway) {
  auto current = json::parse(R"([{"repository":"a","actions":["content/read","content/write"]},
                                 {"repository":"b","actions":["content/read"]},
                                 {"repository":"c","actions":["content/read"]}])").as_array();
  auto out = editRepositories(current, {}, {{"a", {"content/write"}}, {"b", {"content/read"}}, {"zz", {"content/read"}}});
  EXPECT_EQ(json::value(out), json::parse(R"([{"repository":"a","actions":["content/read"]},
                                              {"repository":"c","actions":["content/read"]}])"));
}

TEST(EditRepositories, AddThenRemoveInOneUpdate) {
  auto current = json::parse(R"([{"repository":"a","actions":["content/read"]}])").as_array();
  auto out = editRepositories(current, {{"b", {"content/read"}}}, {{"a", {"content/read"}}});
  EXPECT_EQ(json::value(out), json::parse(R"([{"repository":"b","actions":["content/read"]}])"));
}

TEST(EditRepositories, KeepsUnknownShapesAsTheyAre) {
  auto current = json::parse(R"([42,{"repository":"a","actions":["content/read"],"extra":true}])").as_array();
  auto out = editRepositories(current, {{"a", {"content/delete"}}}, {});
  EXPECT_EQ(json::value(out), json::parse(R"([42,{"repository":"a","actions":["content/read","content/delete"],"extra":true}])"));
}

}  // namespace
}  // namespace berth::cli
