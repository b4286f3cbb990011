#pragma once
// Real object-store servers for the storage tests: s3rver (S3) and Azurite (Azure Blob),
// from the npm packages of tests/e2e/js (scripts/install-npm.sh). Each is started at most
// once per test binary, on a free loopback port in a temp directory, and killed at exit.
// s3rver runs behind tests/e2e/js/s3rver_sigv4.mjs, which refuses (403) any request whose
// SigV4 signature the AWS SDK's signer computes otherwise: s3rver itself checks none.
#include <optional>
#include <string>

#include "storage/azure/azure_blob_store.h"
#include "storage/s3/s3_blob_store.h"

namespace berth::storage::testing {

// Why the server can not run here (node_modules missing, start failed), or nullopt when
// it is up. The first call starts it.
std::optional<std::string> s3Unavailable();
std::optional<std::string> azureUnavailable();

// Options for a fresh, empty bucket (or container) on the running server. virtual_host:
// the bucket in the host name (http://BUCKET.s3.localhost:PORT), not in the path.
S3Options freshS3Bucket(bool virtual_host = false);
AzureOptions freshAzureContainer();
// Options naming the running server with no bucket/container of their own.
S3Options s3ServerOptions(bool virtual_host = false);
AzureOptions azureServerOptions();

// Whether a missing server fails the test instead of skipping it (CI=true).
bool serversRequired();

}  // namespace berth::storage::testing

// Skips (or, under CI=true, fails) the current test when `reason` is set.
#define BERTH_REQUIRE_SERVER(reason_expr)                                          \
  do {                                                                             \
    if (auto reason_ = (reason_expr)) {                                            \
      if (::berth::storage::testing::serversRequired()) FAIL() << *reason_;        \
      GTEST_SKIP() << *reason_;                                                    \
    }                                                                              \
  } while (0)
