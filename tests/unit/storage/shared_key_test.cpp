// Azure Shared Key and service SAS signing, on the documented string-to-sign rules. The
// expected signatures were computed independently (openssl dgst -hmac) from those rules
// with Azurite's well-known devstoreaccount1 key; Azurite itself checks them in the
// contract suite.
#include <gtest/gtest.h>

#include "storage/azure/shared_key.h"
#include "storage/http/crypto.h"

namespace berth::storage::azure {
namespace {

const std::string kAccount = "devstoreaccount1";
const std::string kKey = *http::base64Decode(
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==");

TEST(AzureSharedKey, CanonicalizedHeadersAreXmsOnlyLowercasedSortedAndFolded) {
  std::vector<http::Header> h = {{"X-Ms-Version", "2015-02-21"},
                                 {"Content-Type", "text/plain"},
                                 {"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"},
                                 {"x-ms-meta-Name", "  a   b  "}};
  EXPECT_EQ(canonicalizedHeaders(h),
            "x-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-meta-name:a b\nx-ms-version:2015-02-21\n");
}

TEST(AzureSharedKey, CanonicalizedResourceSortsLowercasedQueryNames) {
  EXPECT_EQ(canonicalizedResource("myaccount", "/mycontainer", {{"restype", "container"}, {"comp", "list"}}),
            "/myaccount/mycontainer\ncomp:list\nrestype:container");
  // Several values of one name: sorted, comma separated.
  EXPECT_EQ(canonicalizedResource("a", "/c", {{"Include", "snapshots"}, {"include", "metadata"}}),
            "/a/c\ninclude:metadata,snapshots");
  // The emulator's path-style URL names the account in the path too.
  EXPECT_EQ(canonicalizedResource(kAccount, "/devstoreaccount1/c/b", {}), "/devstoreaccount1/devstoreaccount1/c/b");
}

TEST(AzureSharedKey, StringToSignAndSignature) {
  RequestToSign r;
  r.method = "PUT";
  r.path = "/devstoreaccount1/mycontainer/myblob";
  r.query = {{"comp", "block"}, {"blockid", "AAAA"}};
  r.headers = {{"Content-Type", "text/plain"},
               {"x-ms-blob-type", "BlockBlob"},
               {"x-ms-date", "Fri, 26 Jun 2015 23:39:12 GMT"},
               {"x-ms-version", "2015-02-21"}};
  r.content_length = 11;
  EXPECT_EQ(stringToSign(r, kAccount),
            "PUT\n\n\n11\n\ntext/plain\n\n\n\n\n\n\n"
            "x-ms-blob-type:BlockBlob\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n"
            "/devstoreaccount1/devstoreaccount1/mycontainer/myblob\nblockid:AAAA\ncomp:block");
  EXPECT_EQ(authorization(r, kAccount, kKey),
            "SharedKey devstoreaccount1:BkYoSFLUPaOV7sOwgoJg72xs1eitq59cb9rv3+khIRE=");
}

TEST(AzureSharedKey, ZeroContentLengthIsEmpty) {
  RequestToSign r;
  r.method = "GET";
  r.path = "/a/c";
  EXPECT_TRUE(stringToSign(r, "a").starts_with("GET\n\n\n\n\n"));
}

TEST(AzureSas, ServiceSasStringToSignAndQuery) {
  ServiceSas sas;
  sas.expiry = "2026-12-01T10:00:00Z";
  sas.container = "c1";
  sas.blob = "blobs/sha256/ab/abc";
  EXPECT_EQ(sasStringToSign(sas, kAccount),
            "r\n\n2026-12-01T10:00:00Z\n/blob/devstoreaccount1/c1/blobs/sha256/ab/abc\n\n\n\n2020-12-06\nb\n\n\n\n\n\n\n");
  EXPECT_EQ(sasQuery(sas, kAccount, kKey),
            "sv=2020-12-06&sr=b&sp=r&se=2026-12-01T10%3A00%3A00Z"
            "&sig=GynXALZZdyoqkBZxWt2eiANbYE%2FCwjLidZ01tJBY8Nc%3D");
}

TEST(AzureSharedKey, Rfc1123) { EXPECT_EQ(rfc1123(1435361952), "Fri, 26 Jun 2015 23:39:12 GMT"); }

}  // namespace
}  // namespace berth::storage::azure
