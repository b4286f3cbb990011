// Registry: manifest pushes and deletes append ACR events to the outbox in their
// transaction, with the request's details, and wake the listener; failures append none.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>

#include "meta/sqlite/sqlite_meta_store.h"
#include "registry/registry.h"
#include "storage/filesystem/fs_blob_store.h"

namespace berth::registry {
namespace {

namespace json = boost::json;

constexpr const char* kIndex = "application/vnd.oci.image.index.v1+json";

TEST(RegistryEvents, PushAndDeleteWriteEventsWithTheRequest) {
  auto dir = std::filesystem::temp_directory_path() / ("berth-events-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto blobs = storage::FsBlobStore::open(dir.string());
  ASSERT_TRUE(blobs);
  auto meta = meta::SqliteMetaStore::open((dir / "meta.db").string());
  ASSERT_TRUE(meta);
  std::shared_ptr<meta::WebhookStore> outbox = (*meta)->webhookStore();
  Registry registry(std::move(*blobs), std::move(*meta), RegistryOptions{});
  int woken = 0;
  registry.setEventListener([&] { ++woken; });

  const events::RequestInfo req{"req-1", "reg.test", "PUT", "ua/1", "alice"};
  const std::string bytes = R"({"schemaVersion":2,"mediaType":")" + std::string(kIndex) + R"(","manifests":[]})";
  auto put = registry.putManifest("team/app", *oci::parseReference("v1"), kIndex, bytes, req);
  ASSERT_TRUE(put) << put.error().message;
  ASSERT_TRUE(registry.putManifest("team/app", *oci::parseReference(put->digest.str()), kIndex, bytes, req));
  // A failed push (digest mismatch) and a failed delete write nothing.
  EXPECT_FALSE(registry.putManifest("team/app", *oci::parseReference(oci::digestOf("x").str()), kIndex, bytes, req));
  EXPECT_FALSE(registry.deleteManifest("team/app", *oci::parseReference("nope"), req));
  ASSERT_TRUE(registry.deleteManifest("team/app", *oci::parseReference("v1"), req));
  ASSERT_TRUE(registry.deleteManifest("team/app", *oci::parseReference(put->digest.str()), req));
  EXPECT_EQ(woken, 4);

  auto events = outbox->eventsAfter(0, 10);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 4u);
  const auto& e = *events;
  EXPECT_EQ(e[0].action, "push");
  EXPECT_EQ(e[0].tag, "v1");
  EXPECT_EQ(e[1].action, "push");
  EXPECT_EQ(e[1].tag, "");
  EXPECT_EQ(e[2].action, "delete");
  EXPECT_EQ(e[2].tag, "v1");
  EXPECT_EQ(e[2].digest, put->digest.str());  // resolved before the tag went
  EXPECT_EQ(e[3].action, "delete");
  EXPECT_EQ(e[3].media_type, kIndex);
  auto body = json::parse(e[0].payload).as_object();
  EXPECT_EQ(body.at("target").at("digest").as_string(), put->digest.str());
  EXPECT_EQ(body.at("target").at("size").to_number<uint64_t>(), bytes.size());
  EXPECT_EQ(body.at("request").at("host"), "reg.test");
  EXPECT_EQ(body.at("actor").at("name"), "alice");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::registry
