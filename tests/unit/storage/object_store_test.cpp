// What the object stores (S3, Azure Blob) add to the contract: configuration errors at
// open() that name the setting, and presigned GET URLs that a client with no credentials
// can fetch. Against the real servers of object_servers.h.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "common/text.h"
#include "object_servers.h"
#include "storage/http/crypto.h"

namespace berth::storage {
namespace {

using testing::azureUnavailable;
using testing::s3Unavailable;

// The body plain curl (no credentials) gets from `url`, or "<curl failed: ...>".
std::string curlGet(const std::string& url) {
  std::string cmd = "curl -sS -f --max-time 30 '" + url + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "<popen failed>";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (rc != 0) return "<curl failed: " + out + ">";
  return out;
}

bool haveCurl() { return std::system("curl --version >/dev/null 2>&1") == 0; }

TEST(S3BlobStore, PresignedGetServesTheBytesWithoutCredentials) {
  BERTH_REQUIRE_SERVER(s3Unavailable());
  if (!haveCurl()) GTEST_SKIP() << "the curl command is not installed";
  auto store = S3BlobStore::open(testing::freshS3Bucket());
  ASSERT_TRUE(store.ok()) << store.error().message;
  const std::string bytes = "presigned layer bytes";
  const oci::Digest d = oci::digestOf(bytes);
  ASSERT_TRUE((*store)->put(d, bytes).ok());
  auto url = (*store)->presignedGet(d, std::chrono::seconds(300));
  ASSERT_TRUE(url.has_value());
  EXPECT_NE(url->find("X-Amz-Expires=300"), std::string::npos) << *url;
  EXPECT_NE(url->find("X-Amz-Signature="), std::string::npos) << *url;
  EXPECT_NE(url->find("X-Amz-Credential=S3RVER%2F"), std::string::npos) << *url;
  EXPECT_EQ(curlGet(*url), bytes);
  // An unknown access key is refused, and so is a URL changed after signing (the server's
  // front checks SigV4 signatures; see object_servers.h).
  std::string bad = *url;
  bad.replace(bad.find("S3RVER%2F"), 6, "NOSUCH");
  EXPECT_TRUE(curlGet(bad).starts_with("<curl failed")) << bad;
  bad = *url;
  bad.replace(bad.find("X-Amz-Expires=300"), 17, "X-Amz-Expires=301");
  EXPECT_TRUE(curlGet(bad).starts_with("<curl failed")) << bad;
}

TEST(S3BlobStore, VirtualHostPresignedGetNamesTheBucketInTheHost) {
  BERTH_REQUIRE_SERVER(s3Unavailable());
  if (!haveCurl()) GTEST_SKIP() << "the curl command is not installed";
  const S3Options options = testing::freshS3Bucket(/*virtual_host=*/true);
  auto store = S3BlobStore::open(options);
  ASSERT_TRUE(store.ok()) << store.error().message;
  const std::string bytes = "virtual-host layer bytes";
  const oci::Digest d = oci::digestOf(bytes);
  ASSERT_TRUE((*store)->put(d, bytes).ok());
  auto url = (*store)->presignedGet(d, std::chrono::seconds(300));
  ASSERT_TRUE(url.has_value());
  const std::string host = "http://" + options.bucket + ".s3.localhost:";
  EXPECT_TRUE(url->starts_with(host)) << *url;
  EXPECT_NE(url->find("/blobs/sha256/"), std::string::npos) << *url;
  EXPECT_EQ(url->find("/" + options.bucket + "/"), std::string::npos) << "the bucket in the path too: " << *url;
  EXPECT_EQ(curlGet(*url), bytes);  // curl resolves *.localhost to loopback
}

TEST(S3BlobStore, OpenNamesAMissingBucket) {
  BERTH_REQUIRE_SERVER(s3Unavailable());
  S3Options o = testing::s3ServerOptions();
  o.bucket = "no-such-bucket";
  auto store = S3BlobStore::open(o);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().message, "storage.s3.bucket \"no-such-bucket\" does not exist");
}

TEST(S3BlobStore, OpenRejectsAWrongKey) {
  BERTH_REQUIRE_SERVER(s3Unavailable());
  S3Options o = testing::freshS3Bucket();
  o.access_key = "AKIDNOTKNOWN";
  o.secret_key = "not-the-secret";
  auto store = S3BlobStore::open(o);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(store.error().message.starts_with("storage.s3: access denied")) << store.error().message;
  EXPECT_NE(store.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_EQ(store.error().message.find("not-the-secret"), std::string::npos);
  // A known key with the wrong secret: the signature does not match.
  o.access_key = "S3RVER";
  store = S3BlobStore::open(o);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(store.error().message.starts_with("storage.s3: access denied")) << store.error().message;
}

TEST(S3BlobStore, OpenNamesAnUnreachableEndpoint) {
  S3Options o;
  o.bucket = "b";
  o.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  o.path_style = true;
  o.access_key = o.secret_key = "x";
  auto store = S3BlobStore::open(o);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(store.error().message.starts_with("storage.s3.endpoint: cannot connect")) << store.error().message;
  o.access_key.clear();
  EXPECT_NE(S3BlobStore::open(o).error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(AzureBlobStore, PresignedGetServesTheBytesWithoutCredentials) {
  BERTH_REQUIRE_SERVER(azureUnavailable());
  if (!haveCurl()) GTEST_SKIP() << "the curl command is not installed";
  auto store = AzureBlobStore::open(testing::freshAzureContainer());
  ASSERT_TRUE(store.ok()) << store.error().message;
  const std::string bytes = "sas layer bytes";
  const oci::Digest d = oci::digestOf(bytes);
  ASSERT_TRUE((*store)->put(d, bytes).ok());
  auto url = (*store)->presignedGet(d, std::chrono::seconds(300));
  ASSERT_TRUE(url.has_value());
  EXPECT_NE(url->find("sp=r"), std::string::npos) << *url;
  EXPECT_NE(url->find("&se="), std::string::npos) << *url;
  EXPECT_EQ(curlGet(*url), bytes);
  std::string bad = *url;
  bad.replace(bad.find("sp=r"), 4, "sp=w");  // the signature covers the permissions
  EXPECT_TRUE(curlGet(bad).starts_with("<curl failed")) << bad;
}

TEST(AzureBlobStore, WorksWithAContainerSasInsteadOfTheKey) {
  BERTH_REQUIRE_SERVER(azureUnavailable());
  AzureOptions keyed = testing::freshAzureContainer();
  azure::ServiceSas sas;
  sas.permissions = "racwdl";
  sas.expiry = formatRfc3339(unixNow() + 3600);
  sas.container = keyed.container;
  AzureOptions sas_only = keyed;
  sas_only.key.clear();
  sas_only.sas = "?" + azure::sasQuery(sas, keyed.account, *http::base64Decode(keyed.key));
  auto store = AzureBlobStore::open(sas_only);
  ASSERT_TRUE(store.ok()) << store.error().message;
  {
    auto w = (*store)->openUpload("u", 0);
    ASSERT_TRUE(w.ok()) << w.error().message;
    ASSERT_TRUE((*w)->write("via a SAS").ok());
  }
  const oci::Digest d = oci::digestOf("via a SAS");
  Status s = (*store)->commitUpload("u", d);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*store)->stat(d)->size, 9u);
  auto url = (*store)->presignedGet(d, std::chrono::seconds(60));
  ASSERT_TRUE(url.has_value());
  if (haveCurl()) {
    EXPECT_EQ(curlGet(*url), "via a SAS");
  }

  // A SAS that only reads one blob can not be the store's.
  sas.permissions = "r";
  sas.blob = "blobs/x";
  sas_only.sas = azure::sasQuery(sas, keyed.account, *http::base64Decode(keyed.key));
  auto refused = AzureBlobStore::open(sas_only);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().message.starts_with("storage.azure: access denied")) << refused.error().message;
}

TEST(AzureBlobStore, OpenNamesAMissingContainer) {
  BERTH_REQUIRE_SERVER(azureUnavailable());
  AzureOptions o = testing::azureServerOptions();
  o.container = "no-such-container";
  auto store = AzureBlobStore::open(o);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().message, "storage.azure.container \"no-such-container\" does not exist");
}

TEST(AzureBlobStore, OpenRejectsAWrongKey) {
  BERTH_REQUIRE_SERVER(azureUnavailable());
  AzureOptions o = testing::freshAzureContainer();
  o.key = "d3Jvbmcga2V5IHdyb25nIGtleQ==";
  auto store = AzureBlobStore::open(o);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(store.error().message.starts_with("storage.azure: access denied")) << store.error().message;
  o.key = "not base64!";
  EXPECT_EQ(AzureBlobStore::open(o).error().message, "storage.azure.key: set the account key (base64) or a SAS");
}

TEST(AzureBlobStore, OpenNamesAnUnreachableEndpoint) {
  AzureOptions o;
  o.container = "c";
  o.endpoint = "http://127.0.0.1:1/devstoreaccount1";
  o.account = "devstoreaccount1";
  o.key = "a2V5";
  auto store = AzureBlobStore::open(o);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(store.error().message.starts_with("storage.azure.endpoint: cannot connect")) << store.error().message;
}

}  // namespace
}  // namespace berth::storage
