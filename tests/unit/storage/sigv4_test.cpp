// SigV4 against AWS's published examples: the signature test suite (get-vanilla,
// post-vanilla, get-vanilla-query-order-key-case) and the S3 presigned URL example.
#include <gtest/gtest.h>

#include "storage/http/crypto.h"
#include "storage/s3/sigv4.h"

namespace berth::storage::s3 {
namespace {

const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const Scope kSuiteScope{"us-east-1", "service", "20150830T123600Z"};

RequestToSign vanilla(std::string method) {
  RequestToSign r;
  r.method = std::move(method);
  r.path = "/";
  r.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  r.payload_hash = http::sha256Hex("");
  return r;
}

TEST(SigV4, GetVanilla) {
  Signature s = sign(vanilla("GET"), kSuite, kSuiteScope);
  EXPECT_EQ(s.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, PostVanilla) {
  Signature s = sign(vanilla("POST"), kSuite, kSuiteScope);
  EXPECT_EQ(s.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4, QueryOrderKeyCase) {
  RequestToSign r = vanilla("GET");
  r.query = {{"Param2", "value2"}, {"Param1", "value1"}};
  Signature s = sign(r, kSuite, kSuiteScope);
  EXPECT_EQ(canonicalQuery(r.query), "Param1=value1&Param2=value2");
  EXPECT_EQ(s.signature, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, HeaderValuesTrimmedAndFolded) {
  RequestToSign r = vanilla("GET");
  r.headers.push_back({"My-Header1", "  a   b   c  "});
  Signature s = sign(r, kSuite, kSuiteScope);
  EXPECT_NE(s.canonical_request.find("\nmy-header1:a b c\n"), std::string::npos);
  EXPECT_EQ(s.signed_headers, "host;my-header1;x-amz-date");
}

// docs.aws.amazon.com "Authenticating Requests: Using Query Parameters" example.
TEST(SigV4, S3PresignedUrlExample) {
  Credentials c{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
  std::string q = presignQuery("examplebucket.s3.amazonaws.com", "/test.txt", c,
                               {"us-east-1", "s3", "20130524T000000Z"}, 86400);
  EXPECT_EQ(q,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, PresignCarriesSessionToken) {
  Credentials c{"AKID", "secret", "token/with+chars"};
  std::string q = presignQuery("h", "/k", c, {"us-east-1", "s3", "20130524T000000Z"}, 60);
  EXPECT_NE(q.find("X-Amz-Security-Token=token%2Fwith%2Bchars"), std::string::npos);
}

TEST(SigV4, AmzDate) { EXPECT_EQ(amzDate(1440938160), "20150830T123600Z"); }

TEST(StorageCrypto, Base64RoundTrip) {
  EXPECT_EQ(http::base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(http::base64Encode("fo"), "Zm8=");
  EXPECT_EQ(*http::base64Decode("Zm8="), "fo");
  EXPECT_EQ(*http::base64Decode("Zg=="), "f");
  EXPECT_FALSE(http::base64Decode("Zm8").has_value());
}

}  // namespace
}  // namespace berth::storage::s3
