// The object stores' reader: sequential small reads become few ranged GETs; and the curl
// layer's failures are storage errors that name the host.
#include <gtest/gtest.h>

#include <cstring>

#include "storage/http/http_client.h"
#include "storage/remote_blob_reader.h"

namespace berth::storage {
namespace {

struct Fetches {
  std::string blob;
  std::vector<std::pair<uint64_t, size_t>> calls;
  RemoteBlobReader::Fetch fetch() {
    return [this](uint64_t offset, size_t len, char* out) -> Status {
      calls.emplace_back(offset, len);
      std::memcpy(out, blob.data() + offset, len);
      return okStatus();
    };
  }
};

TEST(RemoteBlobReader, SequentialSmallReadsShareOneFetchPerReadAhead) {
  Fetches f;
  f.blob.resize(10 * 1024 * 1024 + 7);
  for (size_t i = 0; i < f.blob.size(); ++i) f.blob[i] = static_cast<char>(i * 13);
  RemoteBlobReader r(f.blob.size(), f.fetch());
  EXPECT_EQ(r.fd(), -1);
  std::string got;
  std::string buf(256 * 1024, '\0');
  for (uint64_t off = 0;;) {
    auto n = r.readAt(off, buf.data(), buf.size());
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    got.append(buf.data(), *n);
    off += *n;
  }
  EXPECT_TRUE(got == f.blob);
  EXPECT_EQ(f.calls.size(), 3u);  // 4 MiB, 4 MiB, the rest
  EXPECT_EQ(f.calls.back().second, f.blob.size() - 8 * 1024 * 1024);
}

TEST(RemoteBlobReader, ReadsAcrossTheBufferEdgeAndLargeReadsBypassIt) {
  Fetches f;
  f.blob.resize(9 * 1024 * 1024);
  for (size_t i = 0; i < f.blob.size(); ++i) f.blob[i] = static_cast<char>(i * 7);
  RemoteBlobReader r(f.blob.size(), f.fetch());
  std::string buf(10, '\0');
  ASSERT_EQ(*r.readAt(RemoteBlobReader::kReadAhead - 5, buf.data(), 10), 10u);  // one fill
  EXPECT_EQ(buf, f.blob.substr(RemoteBlobReader::kReadAhead - 5, 10));
  std::string big(5 * 1024 * 1024, '\0');
  ASSERT_EQ(*r.readAt(100, big.data(), big.size()), big.size());
  EXPECT_TRUE(big == f.blob.substr(100, big.size()));
  EXPECT_EQ(*r.readAt(f.blob.size(), buf.data(), 10), 0u);
  EXPECT_EQ(*r.readAt(f.blob.size() - 3, buf.data(), 10), 3u);
}

TEST(RemoteBlobReader, FetchErrorsAreReturned) {
  RemoteBlobReader r(100, [](uint64_t, size_t, char*) -> Status {
    return makeError(Code::kUnavailable, "cannot reach store");
  });
  char c;
  auto n = r.readAt(0, &c, 1);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.code(), Code::kUnavailable);
}

TEST(StorageHttp, UnreachableServerIsUnavailableNamingTheHost) {
  http::Request req;
  req.url = "http://127.0.0.1:1/bucket/key?X-Amz-Signature=secret";
  auto r = http::perform(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Code::kUnavailable);
  EXPECT_TRUE(r.error().message.starts_with("cannot reach 127.0.0.1:1: ")) << r.error().message;
  EXPECT_EQ(r.error().message.find("secret"), std::string::npos);
}

TEST(StorageHttp, UriEncode) {
  EXPECT_EQ(http::uriEncode("a b/c~d+e=", false), "a%20b%2Fc~d%2Be%3D");
  EXPECT_EQ(http::uriEncode("blobs/sha256/ab", true), "blobs/sha256/ab");
}

}  // namespace
}  // namespace berth::storage
