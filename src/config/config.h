#pragma once
// Server configuration: defaults, the YAML file, then command-line flags (flags win).
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/cidr.h"
#include "common/result.h"

namespace YAML {
class Node;
}

namespace berth {

struct Limits {
  size_t max_manifest_bytes = 4 * 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  std::chrono::seconds header_timeout{30};    // to receive a request's headers
  std::chrono::seconds idle_timeout{120};     // keep-alive connection with no request
  std::chrono::seconds body_stall_timeout{60};  // no body bytes for this long: cut
  uint64_t min_body_rate = 1024;  // bytes/s a body must average over each stall window
  size_t max_connections = 10000;
  size_t max_header_count = 100;        // header fields in one request
  size_t max_target_bytes = 8192;       // request-target (URL) length
  size_t max_uploads_per_repository = 1000;  // open upload sessions
  size_t max_uploads_per_client = 64;   // concurrent upload requests from one address
  uint64_t max_upload_bytes = uint64_t{10} << 30;  // bytes of one upload session (10 GiB)
};

struct OidcIssuerConfig {
  std::string issuer;      // exact "iss" of accepted ID tokens
  std::string audience;    // required "aud"
  std::string jwks_file;   // JWKS document with the issuer's signing keys, or
  std::string jwks_url;    // where to fetch it (refreshed every 10 minutes and on unknown kids)
};

struct AuthConfig {
  bool enabled = true;      // `auth: none` turns every check off (local benchmarks only)
  std::string service = "berth";  // token audience and the challenge's service
  std::string issuer = "berth";
  int64_t access_token_ttl = 300;
  int64_t refresh_token_ttl = 14 * 24 * 3600;
  std::string signing_key;  // PEM file; default <data>/token-signing-key.pem (created)
  std::vector<OidcIssuerConfig> oidc;
};

// The audit log (docs/audit.md). Needs authentication on.
struct AuditConfig {
  bool enabled = true;
  std::string file;             // JSON lines appended here too; "" = database only
  int64_t retention_days = 90;  // 0 keeps entries forever
  bool pulls = true;            // record successful pulls (denied ones always are)
};

// Garbage collection and abandoned-upload sweeping (docs/gc.md).
struct GcConfig {
  bool schedule = true;                       // run every `interval`; off: on demand only
  std::chrono::seconds grace_period{3600};    // unreferenced blobs younger than this stay (0: tests only)
  std::chrono::seconds interval{24 * 3600};
  std::chrono::seconds upload_max_age{24 * 3600};  // idle upload sessions older than this go
};

// The recycle bin (docs/recycle-bin.md): deletes are soft and can be undone for
// retention_days (1-90); expired items are purged automatically.
struct RecycleBinConfig {
  bool enabled = true;
  int64_t retention_days = 7;
};

// Stored retention policies (docs/retention.md) run every `interval` while any is enabled.
struct RetentionConfig {
  bool schedule = true;  // off: policies run only on demand (POST /api/v1/retention/run)
  std::chrono::seconds interval{3600};
};

// One certificate the server can present: PEM files as given (relative paths are taken from
// the working directory). The cert file holds the leaf first, then its chain.
struct TlsCertificateFiles {
  std::string cert;
  std::string key;
};

// Where metadata lives: the embedded SQLite file in the data directory (one process), or
// PostgreSQL shared by many nodes.
struct MetaConfig {
  std::string driver = "sqlite";  // sqlite | postgresql
  std::string dsn;                // libpq URI or key=value; the password from PGPASSWORD or the URI
  size_t pool_size = 8;           // connections per node
};

struct S3StorageConfig {
  std::string bucket;
  std::string region = "us-east-1";
  std::string endpoint;  // "" = https://s3.REGION.amazonaws.com
  bool path_style = false;
};

struct AzureStorageConfig {
  std::string container;
  std::string endpoint;  // e.g. https://ACCOUNT.blob.core.windows.net ("" = that, from the account)
};

// Where blobs live: the data directory, an S3 bucket or an Azure Blob container. Keys come
// from the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AZURE_STORAGE_ACCOUNT /
// AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN), never from the file.
struct StorageConfig {
  std::string driver = "filesystem";  // filesystem | s3 | azure
  bool redirect = false;              // blob GETs answer 307 to a short-lived storage URL
  std::chrono::seconds redirect_ttl{20 * 60};
  S3StorageConfig s3;
  AzureStorageConfig azure;
};

// Geo-replication (docs/replication.md): this replica's region, the secret every replica
// shares, and the peers it reads from.
struct ReplicationPeerConfig {
  std::string region;
  std::string url;
};
struct ReplicationConfig {
  std::string region;       // "" = replication off
  std::string secret_file;  // the shared key (at least 32 bytes)
  std::vector<ReplicationPeerConfig> peers;
};

struct Config {
  std::string listen = "127.0.0.1:5000";
  std::string data_dir = "./data";
  std::string log_level = "info";
  bool access_log = true;
  // GET /metrics without credentials even when authentication is on.
  bool metrics_anonymous = false;
  // How often the usage counters are written to the database (docs/usage.md).
  std::chrono::seconds usage_flush_interval{5};
  unsigned io_threads = 0;        // 0: one per core
  unsigned blocking_threads = 8;  // disk and database work
  size_t manifest_cache_bytes = 64 * 1024 * 1024;
  std::chrono::seconds shutdown_grace{30};
  Limits limits;
  MetaConfig meta;
  StorageConfig storage;
  AuthConfig auth;
  AuditConfig audit;
  GcConfig gc;
  RecycleBinConfig recycle_bin;
  RetentionConfig retention;
  ReplicationConfig replication;
  // HTTPS when non-empty: the first is the default, the others are chosen by SNI.
  std::vector<TlsCertificateFiles> tls_certificates;
  // Peers whose X-Forwarded-For/-Proto/-Host headers are believed.
  CidrSet trusted_proxies;
};

// One key of the configuration file: its dotted name ("server.idle_timeout"), a one-line
// doc with its default (`berth serve --help`), and its reader, which checks the value and
// names the key in its error. The table is the only list of keys: parsing, the unknown-key
// error and the help text all come from it.
struct ConfigKey {
  std::string_view name;
  std::string_view doc;
  Status (*read)(const YAML::Node& value, const std::string& key, Config& config);
};
std::span<const ConfigKey> configKeys();
// "  name   doc" lines of every key, for `berth serve --help`.
std::string configKeysHelp();

// Parses YAML text over `base` (what loadConfigFile does after reading the file).
Result<Config> parseConfig(std::string_view yaml, Config base = {});

// Loads YAML from `path` over `base`. Unknown keys and bad values are errors naming the key.
Result<Config> loadConfigFile(const std::string& path, Config base = {});

// Splits "host:port" / "[v6]:port". kInvalidArgument naming the value on error.
Result<std::pair<std::string, uint16_t>> parseListen(const std::string& listen);

}  // namespace berth
