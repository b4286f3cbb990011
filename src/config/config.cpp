#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "common/text.h"
#include "replication/region.h"

namespace berth {
namespace {

Error keyError(const std::string& key, const std::string& what) {
  return makeError(Code::kInvalidArgument, "config: " + key + ": " + what);
}

template <class T>
Status readScalar(const YAML::Node& node, const std::string& key, T& out) {
  try {
    out = node.as<T>();
    return {};
  } catch (const YAML::Exception&) {
    return keyError(key, "invalid value");
  }
}

// Timers are armed as steady_clock::now() + timeout in nanoseconds; ten years keeps that far
// from overflowing.
constexpr int64_t kMaxSeconds = 10LL * 365 * 24 * 3600;

Status readSeconds(const YAML::Node& node, const std::string& key, std::chrono::seconds& out) {
  int64_t v = 0;
  if (auto s = readScalar(node, key, v); !s) return s;
  if (v <= 0) return keyError(key, "must be a positive number of seconds");
  if (v > kMaxSeconds) return keyError(key, "must be at most " + std::to_string(kMaxSeconds) + " seconds");
  out = std::chrono::seconds(v);
  return {};
}

Status checkKeys(const YAML::Node& node, const std::string& prefix, const std::set<std::string>& allowed);

// A duration: whole seconds, or numbers with units d, h, m, s ("90s", "30m", "1h", "7d",
// "1h30m"; common/text.h parseDuration). `allow_zero` admits 0.
Status readDuration(const YAML::Node& node, const std::string& key, std::chrono::seconds& out, bool allow_zero) {
  std::string text;
  if (auto s = readScalar(node, key, text); !s) return s;
  auto v = parseDuration(text);
  if (!v) {
    return keyError(key, "must be a duration such as 3600, 90s, 30m, 1h or 7d (at most " +
                             std::to_string(kMaxSeconds) + " seconds)");
  }
  if (*v == 0 && !allow_zero) return keyError(key, "must be more than 0");
  out = std::chrono::seconds(*v);
  return {};
}

Status checkKeys(const YAML::Node& node, const std::string& prefix, const std::set<std::string>& allowed) {
  if (!node.IsMap()) return keyError(prefix.empty() ? "<root>" : prefix, "must be a mapping");
  for (const auto& kv : node) {
    auto k = kv.first.as<std::string>();
    if (!allowed.count(k)) return keyError(prefix + k, "unknown key");
  }
  return {};
}

Result<Config> parseRoot(const YAML::Node& root, Config c);

Status readTrustedProxies(const YAML::Node& node, CidrSet& out) {
  const std::string key = "server.trusted_proxies";
  if (!node.IsSequence()) return keyError(key, "must be a list of CIDR ranges, e.g. [10.0.0.0/8, \"::1\"]");
  CidrSet set;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item = key + "[" + std::to_string(i) + "]";
    std::string text;
    if (auto s = readScalar(node[i], item, text); !s) return s;
    auto range = parseCidr(text);
    if (!range) return keyError(item, range.error().message);
    set.add(*range);
  }
  out = std::move(set);
  return {};
}

Status readCertificates(const YAML::Node& certs, std::vector<TlsCertificateFiles>& out) {
  if (!certs.IsSequence()) return keyError("tls.certificates", "must be a list of {cert: FILE, key: FILE}");
  std::vector<TlsCertificateFiles> list;
  for (size_t i = 0; i < certs.size(); ++i) {
    const std::string prefix = "tls.certificates[" + std::to_string(i) + "]";
    if (auto s = checkKeys(certs[i], prefix + ".", {"cert", "key"}); !s) return s;
    TlsCertificateFiles files;
    for (auto [name, field] : {std::pair{"cert", &files.cert}, std::pair{"key", &files.key}}) {
      const std::string key = prefix + "." + name;
      if (!certs[i][name]) return keyError(key, "missing (a PEM file)");
      if (auto s = readScalar(certs[i][name], key, *field); !s) return s;
      if (field->empty()) return keyError(key, "must name a PEM file");
    }
    list.push_back(std::move(files));
  }
  out = std::move(list);
  return {};
}

Status readOidc(const YAML::Node& oidc, std::vector<OidcIssuerConfig>& out) {
  if (!oidc.IsSequence()) return keyError("auth.oidc", "must be a list of issuers");
  for (size_t i = 0; i < oidc.size(); ++i) {
    const std::string prefix = "auth.oidc[" + std::to_string(i) + "].";
    if (auto s = checkKeys(oidc[i], prefix, {"issuer", "audience", "jwks_file", "jwks_url"}); !s) return s;
    OidcIssuerConfig o;
    for (auto [key, field] : {std::pair{"issuer", &o.issuer}, std::pair{"audience", &o.audience},
                              std::pair{"jwks_file", &o.jwks_file}, std::pair{"jwks_url", &o.jwks_url}}) {
      const bool optional = std::string_view(key).starts_with("jwks_");
      if (!oidc[i][key]) {
        if (optional) continue;
        return keyError(prefix + key, "is required");
      }
      if (auto s = readScalar(oidc[i][key], prefix + key, *field); !s) return s;
      if (field->empty()) return keyError(prefix + key, "must not be empty");
    }
    if (o.jwks_file.empty() == o.jwks_url.empty()) {
      return keyError(prefix + "jwks_file", "give exactly one of jwks_file and jwks_url");
    }
    if (!o.jwks_url.empty() && !o.jwks_url.starts_with("https://") && !o.jwks_url.starts_with("http://")) {
      return keyError(prefix + "jwks_url", "must be an http(s) URL");
    }
    out.push_back(std::move(o));
  }
  return {};
}

// A region name (replication/region.h).
Status regionName(const YAML::Node& n, const std::string& key, std::string& out) {
  if (auto s = readScalar(n, key, out); !s) return s;
  if (auto problem = replication::regionNameProblem(out); !problem.empty()) return keyError(key, problem);
  return {};
}

Status readPeers(const YAML::Node& peers, std::vector<ReplicationPeerConfig>& out) {
  if (!peers.IsSequence()) return keyError("replication.peers", "must be a list of {region, url}");
  std::vector<ReplicationPeerConfig> list;
  for (size_t i = 0; i < peers.size(); ++i) {
    const std::string prefix = "replication.peers[" + std::to_string(i) + "].";
    if (auto s = checkKeys(peers[i], prefix, {"region", "url"}); !s) return s;
    ReplicationPeerConfig p;
    if (!peers[i]["region"]) return keyError(prefix + "region", "is required");
    if (auto s = regionName(peers[i]["region"], prefix + "region", p.region); !s) return s;
    if (!peers[i]["url"]) return keyError(prefix + "url", "is required (http(s)://HOST:PORT of the peer)");
    if (auto s = readScalar(peers[i]["url"], prefix + "url", p.url); !s) return s;
    if (!p.url.starts_with("http://") && !p.url.starts_with("https://")) {
      return keyError(prefix + "url", "must be an http(s) URL");
    }
    while (p.url.ends_with('/')) p.url.pop_back();
    for (const auto& q : list) {
      if (q.region == p.region) return keyError(prefix + "region", "names region " + p.region + " twice");
    }
    list.push_back(std::move(p));
  }
  out = std::move(list);
  return {};
}

// Typed readers with their checks; each names `key` in its error.
Status flag(const YAML::Node& n, const std::string& key, bool& out) {
  if (auto s = readScalar(n, key, out); !s) return keyError(key, "must be true or false");
  return {};
}

template <class T>
Status number(const YAML::Node& n, const std::string& key, T& out, T min, T max, std::string_view range = {}) {
  T v{};
  if (auto s = readScalar(n, key, v); !s) return s;
  if (v < min || v > max) {
    return keyError(key, range.empty() ? "must be from " + std::to_string(min) + " to " + std::to_string(max)
                                       : std::string(range));
  }
  out = v;
  return {};
}

Status text(const YAML::Node& n, const std::string& key, std::string& out) {
  if (auto s = readScalar(n, key, out); !s) return s;
  if (out.empty()) return keyError(key, "must not be empty");
  return {};
}

Status oneOf(const YAML::Node& n, const std::string& key, std::string& out,
             std::initializer_list<std::string_view> allowed) {
  std::string v;
  if (auto s = readScalar(n, key, v); !s) return s;
  std::string names;
  for (auto a : allowed) {
    if (v == a) {
      out = v;
      return {};
    }
    names += (names.empty() ? "" : " | ") + std::string(a);
  }
  return keyError(key, "must be " + names);
}

Status url(const YAML::Node& n, const std::string& key, std::string& out) {
  if (auto s = text(n, key, out); !s) return s;
  if (!out.starts_with("http://") && !out.starts_with("https://")) return keyError(key, "must be an http(s) URL");
  while (out.ends_with('/')) out.pop_back();
  return {};
}

Status days(const YAML::Node& n, const std::string& key, int64_t& out, int64_t min, int64_t max, std::string_view range) {
  int64_t v = 0;
  if (auto s = readScalar(n, key, v); !s) return keyError(key, "must be a whole number of days");
  if (v < min || v > max) return keyError(key, std::string(range));
  out = v;
  return {};
}

Status ttl(const YAML::Node& n, const std::string& key, int64_t& out) {
  std::chrono::seconds v{out};
  if (auto s = readSeconds(n, key, v); !s) return s;
  out = v.count();
  return {};
}

using Node = YAML::Node;
using Key = std::string;
constexpr uint64_t kNoMax = UINT64_MAX;

// Every key of the file: its name, its one-line doc (`berth serve --help`), and its reader
// with the value's checks. Sections are the names' prefixes; anything else is unknown.
const ConfigKey kKeys[] = {
    {"listen", "HOST:PORT to listen on (default 127.0.0.1:5000)",
     [](const Node& n, const Key& k, Config& c) -> Status {
       if (auto s = readScalar(n, k, c.listen); !s) return s;
       if (!parseListen(c.listen)) return keyError(k, "expected HOST:PORT, got '" + c.listen + "'");
       return {};
     }},
    {"meta.driver", "sqlite (the data directory, one process) | postgresql (shared by many nodes) (default sqlite)",
     [](const Node& n, const Key& k, Config& c) { return oneOf(n, k, c.meta.driver, {"sqlite", "postgresql"}); }},
    {"meta.dsn", "PostgreSQL connection URI (libpq); the password from PGPASSWORD or the URI",
     [](const Node& n, const Key& k, Config& c) { return text(n, k, c.meta.dsn); }},
    {"meta.pool_size", "PostgreSQL connections per node (default 8)",
     [](const Node& n, const Key& k, Config& c) { return number<size_t>(n, k, c.meta.pool_size, 1, 1000); }},
    {"storage.driver", "filesystem (the data directory) | s3 | azure (default filesystem)",
     [](const Node& n, const Key& k, Config& c) {
       return oneOf(n, k, c.storage.driver, {"filesystem", "s3", "azure"});
     }},
    {"storage.redirect", "blob GETs answer 307 to a presigned storage URL (s3, azure; default false)",
     [](const Node& n, const Key& k, Config& c) { return flag(n, k, c.storage.redirect); }},
    {"storage.redirect_ttl", "how long a redirect URL is valid, 1m-12h (default 20m)",
     [](const Node& n, const Key& k, Config& c) -> Status {
       std::chrono::seconds v = c.storage.redirect_ttl;
       if (auto s = readDuration(n, k, v, false); !s) return s;
       if (v < std::chrono::minutes(1) || v > std::chrono::hours(12)) return keyError(k, "must be from 1m to 12h");
       c.storage.redirect_ttl = v;
       return {};
     }},
    {"storage.s3.bucket", "S3 bucket; keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
     [](const Node& n, const Key& k, Config& c) { return text(n, k, c.storage.s3.bucket); }},
    {"storage.s3.region", "S3 region (default us-east-1)",
     [](const Node& n, const Key& k, Config& c) { return text(n, k, c.storage.s3.region); }},
    {"storage.s3.endpoint", "S3 endpoint URL (default https://s3.REGION.amazonaws.com)",
     [](const Node& n, const Key& k, Config& c) { return url(n, k, c.storage.s3.endpoint); }},
    {"storage.s3.path_style", "bucket in the path instead of the host name (default false)",
     [](const Node& n, const Key& k, Config& c) { return flag(n, k, c.storage.s3.path_style); }},
    {"storage.azure.container", "Azure Blob container; AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN",
     [](const Node& n, const Key& k, Config& c) { return text(n, k, c.storage.azure.container); }},
    {"storage.azure.endpoint", "account endpoint URL (default https://ACCOUNT.blob.core.windows.net)",
     [](const Node& n, const Key& k, Config& c) { return url(n, k, c.storage.azure.endpoint); }},
    {"data", "data directory (default ./data)",
     [](const Node& n, const Key& k, Config& c) { return readScalar(n, k, c.data_dir); }},
    {"log.level", "debug | info | warn | error (default info)",
     [](const Node& n, const Key& k, Config& c) -> Status {
       if (auto s = readScalar(n, k, c.log_level); !s) return s;
       if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" && c.log_level != "error")
         return keyError(k, "must be debug, info, warn or error");
       return {};
     }},
    {"log.access", "access log, one JSON line per request (default true)",
     [](const Node& n, const Key& k, Config& c) { return flag(n, k, c.access_log); }},
    {"server.io_threads", "I/O threads, 0 = one per core (default 0)",
     [](const Node& n, const Key& k, Config& c) { return number(n, k, c.io_threads, 0u, 256u, "must be at most 256"); }},
    {"server.blocking_threads", "threads for disk and database work (default 8)",
     [](const Node& n, const Key& k, Config& c) { return number(n, k, c.blocking_threads, 1u, 1024u); }},
    {"server.header_timeout", "seconds to receive request headers (default 30)",
     [](const Node& n, const Key& k, Config& c) { return readSeconds(n, k, c.limits.header_timeout); }},
    {"server.idle_timeout", "seconds an idle keep-alive connection is kept (default 120)",
     [](const Node& n, const Key& k, Config& c) { return readSeconds(n, k, c.limits.idle_timeout); }},
    {"server.body_stall_timeout", "seconds without body progress before a transfer is cut (default 60)",
     [](const Node& n, const Key& k, Config& c) { return readSeconds(n, k, c.limits.body_stall_timeout); }},
    {"server.min_body_rate", "bytes/s an upload must average per stall window (default 1024)",
     [](const Node& n, const Key& k, Config& c) {
       return number<uint64_t>(n, k, c.limits.min_body_rate, 0, 1ull << 30, "must be at most 1073741824 bytes/s");
     }},
    {"server.max_manifest_bytes", "largest manifest accepted, at most 4 MiB (default 4194304)",
     // The OCI distribution spec's limit (4 MiB) is the most any manifest may be.
     [](const Node& n, const Key& k, Config& c) {
       return number<size_t>(n, k, c.limits.max_manifest_bytes, 1, 4 * 1024 * 1024, "must be from 1 to 4194304 (4 MiB)");
     }},
    {"server.max_header_bytes", "request header size limit (default 16384)",
     // Beast takes the header limit as a uint32_t.
     [](const Node& n, const Key& k, Config& c) {
       return number<size_t>(n, k, c.limits.max_header_bytes, 0, UINT32_MAX, "must be at most 4294967295");
     }},
    {"server.max_header_count", "header fields per request (default 100)",
     [](const Node& n, const Key& k, Config& c) { return number<size_t>(n, k, c.limits.max_header_count, 0, kNoMax); }},
    {"server.max_target_bytes", "request URL length (default 8192)",
     [](const Node& n, const Key& k, Config& c) { return number<size_t>(n, k, c.limits.max_target_bytes, 0, kNoMax); }},
    {"server.max_connections", "concurrent connections; beyond: 503 + Retry-After (default 10000)",
     [](const Node& n, const Key& k, Config& c) { return number<size_t>(n, k, c.limits.max_connections, 0, kNoMax); }},
    {"server.max_uploads_per_repository", "open upload sessions per repository (default 1000)",
     [](const Node& n, const Key& k, Config& c) {
       return number<size_t>(n, k, c.limits.max_uploads_per_repository, 0, kNoMax);
     }},
    {"server.max_uploads_per_client", "concurrent upload requests per client address (default 64)",
     [](const Node& n, const Key& k, Config& c) {
       return number<size_t>(n, k, c.limits.max_uploads_per_client, 0, kNoMax);
     }},
    {"server.max_upload_bytes", "bytes one blob upload may have; beyond: 413, upload cancelled (default 10 GiB)",
     [](const Node& n, const Key& k, Config& c) {
       return number<uint64_t>(n, k, c.limits.max_upload_bytes, 1, kNoMax, "must be at least 1");
     }},
    {"server.shutdown_grace", "seconds SIGTERM waits for in-flight requests (default 30)",
     [](const Node& n, const Key& k, Config& c) { return readSeconds(n, k, c.shutdown_grace); }},
    {"server.trusted_proxies", "CIDR ranges whose X-Forwarded-For/-Proto/-Host are believed (default none)",
     [](const Node& n, const Key&, Config& c) { return readTrustedProxies(n, c.trusted_proxies); }},
    {"cache.manifest_bytes", "in-memory manifest cache size (default 64 MiB)",
     [](const Node& n, const Key& k, Config& c) { return number<size_t>(n, k, c.manifest_cache_bytes, 0, kNoMax); }},
    {"usage.flush_interval", "seconds between writes of the usage counters (default 5)",
     [](const Node& n, const Key& k, Config& c) { return readSeconds(n, k, c.usage_flush_interval); }},
    {"metrics.anonymous", "GET /metrics without credentials when auth is on (default false)",
     [](const Node& n, const Key& k, Config& c) { return flag(n, k, c.metrics_anonymous); }},
    {"audit.enabled", "the audit log, /api/v1/audit (default true; off with auth: none)",
     [](const Node& n, const Key& k, Config& c) { return flag(n, k, c.audit.enabled); }},
    {"audit.pulls", "record successful pulls; denied ones always are (default true)",
     [](const Node& n, const Key& k, Config& c) { return flag(n, k, c.audit.pulls); }},
    {"audit.file", "also append audit entries as JSON lines to this file",
     [](const Node& n, const Key& k, Config& c) -> Status {
       if (auto s = readScalar(n, k, c.audit.file); !s) return s;
       if (c.audit.file.empty()) return keyError(k, "must name a file (or leave the key out)");
       return {};
     }},
    {"audit.retention_days", "prune audit entries older than this; 0 keeps them (default 90)",
     [](const Node& n, const Key& k, Config& c) {
       return days(n, k, c.audit.retention_days, 0, 36500, "must be from 0 (keep forever) to 36500");
     }},
    {"gc.schedule", "run garbage collection every gc.interval (default true)",
     [](const Node& n, const Key& k, Config& c) { return flag(n, k, c.gc.schedule); }},
    {"gc.interval", "between scheduled runs, e.g. 24h, 30m, 3600 (default 24h)",
     [](const Node& n, const Key& k, Config& c) { return readDuration(n, k, c.gc.interval, false); }},
    {"gc.grace_period", "unreferenced blobs younger than this stay (default 1h)",
     // 0 lets a blob go the moment nothing references it, also between a push's blob upload
     // and its manifest (which then fails with MANIFEST_BLOB_UNKNOWN): for tests.
     [](const Node& n, const Key& k, Config& c) { return readDuration(n, k, c.gc.grace_period, true); }},
    {"gc.upload_max_age", "upload sessions idle this long are removed (default 24h)",
     [](const Node& n, const Key& k, Config& c) { return readDuration(n, k, c.gc.upload_max_age, false); }},
    {"recycle_bin.enabled", "deletes go to the recycle bin (default true)",
     [](const Node& n, const Key& k, Config& c) { return flag(n, k, c.recycle_bin.enabled); }},
    {"recycle_bin.retention_days", "days a deleted item can be restored, 1-90 (default 7)",
     [](const Node& n, const Key& k, Config& c) {
       return days(n, k, c.recycle_bin.retention_days, 1, 90, "must be from 1 to 90");
     }},
    {"retention.schedule", "run the stored retention policies every retention.interval (default true)",
     [](const Node& n, const Key& k, Config& c) { return flag(n, k, c.retention.schedule); }},
    {"retention.interval", "between policy runs (default 1h)",
     [](const Node& n, const Key& k, Config& c) { return readDuration(n, k, c.retention.interval, false); }},
    {"tls.certificates", "HTTPS: list of {cert: PEM chain, key: PEM key}; the first is the default, SNI picks others",
     [](const Node& n, const Key&, Config& c) { return readCertificates(n, c.tls_certificates); }},
    {"auth.service", "the token audience and the challenge's service (default berth)",
     [](const Node& n, const Key& k, Config& c) -> Status {
       if (auto s = text(n, k, c.auth.service); !s) return s;
       for (char ch : c.auth.service) {
         if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x21) {
           return keyError(k, "must be printable without quotes or spaces");
         }
       }
       return {};
     }},
    {"auth.issuer", "the tokens' issuer (default berth)",
     [](const Node& n, const Key& k, Config& c) { return text(n, k, c.auth.issuer); }},
    {"auth.access_token_ttl", "seconds an access token lives (default 300)",
     [](const Node& n, const Key& k, Config& c) { return ttl(n, k, c.auth.access_token_ttl); }},
    {"auth.refresh_token_ttl", "seconds a refresh (identity) token lives (default 1209600, 14 days)",
     [](const Node& n, const Key& k, Config& c) { return ttl(n, k, c.auth.refresh_token_ttl); }},
    {"auth.signing_key", "ES256 key file (default DATA/token-signing-key.pem, created if missing)",
     [](const Node& n, const Key& k, Config& c) { return text(n, k, c.auth.signing_key); }},
    {"replication.region", "this replica's region; turns geo-replication on (docs/replication.md)",
     [](const Node& n, const Key& k, Config& c) { return regionName(n, k, c.replication.region); }},
    {"replication.secret_file", "the key every replica shares (>= 32 bytes; e.g. openssl rand -hex 32)",
     [](const Node& n, const Key& k, Config& c) { return text(n, k, c.replication.secret_file); }},
    {"replication.peers", "the other replicas: list of {region, url}",
     [](const Node& n, const Key&, Config& c) { return readPeers(n, c.replication.peers); }},
    {"auth.oidc", "trusted OIDC issuers: list of {issuer, audience, jwks_url or jwks_file}",
     [](const Node& n, const Key&, Config& c) { return readOidc(n, c.auth.oidc); }},
};

const ConfigKey* findKey(std::string_view name) {
  for (const auto& k : kKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

bool isSection(std::string_view name) {
  for (const auto& k : kKeys) {
    if (k.name.size() > name.size() && k.name.starts_with(name) && k.name[name.size()] == '.') return true;
  }
  return false;
}

Status readKey(const std::string& name, const YAML::Node& value, Config& c) {
  const ConfigKey* key = findKey(name);
  if (key == nullptr) return keyError(name, "unknown key");
  return key->read(value, name, c);
}

// Reads the keys of one mapping, `prefix` naming it ("" at the root, "storage." below).
Status readSection(const YAML::Node& map, const std::string& prefix, Config& c) {
  for (const auto& kv : map) {
    const std::string name = prefix + kv.first.as<std::string>();
    const YAML::Node& value = kv.second;
    // `auth: none` (no authentication; benchmarks only) or `auth: token` (the default).
    if (name == "auth" && value.IsScalar()) {
      const std::string mode = value.as<std::string>();
      if (mode == "none") {
        c.auth.enabled = false;
      } else if (mode != "token") {
        return keyError("auth", "must be none, token or a mapping");
      }
      continue;
    }
    if (!isSection(name)) {
      if (auto s = readKey(name, value, c); !s) return s;
      continue;
    }
    if (!value.IsMap()) return keyError(name, "must be a mapping of " + name + ".* keys");
    if (auto s = readSection(value, name + ".", c); !s) return s;
  }
  return {};
}

// What one key cannot say alone: the settings a driver needs.
Status checkDrivers(const Config& c) {
  if (c.meta.driver == "postgresql" && c.meta.dsn.empty()) {
    return keyError("meta.dsn", "required when meta.driver is postgresql");
  }
  if (c.storage.driver == "s3" && c.storage.s3.bucket.empty()) {
    return keyError("storage.s3.bucket", "required when storage.driver is s3");
  }
  if (c.storage.driver == "azure" && c.storage.azure.container.empty()) {
    return keyError("storage.azure.container", "required when storage.driver is azure");
  }
  const auto& r = c.replication;
  if (!r.region.empty() && r.secret_file.empty()) {
    return keyError("replication.secret_file", "required when replication.region is set");
  }
  if (r.region.empty() && (!r.secret_file.empty() || !r.peers.empty())) {
    return keyError("replication.region", "required when replication.secret_file or replication.peers is set");
  }
  for (const auto& p : r.peers) {
    if (p.region == r.region) return keyError("replication.peers", "lists this replica's own region " + r.region);
  }
  if (c.storage.redirect && c.storage.driver == "filesystem") {
    return keyError("storage.redirect", "needs storage.driver s3 or azure (the filesystem has no URL to send clients to)");
  }
  return {};
}

Result<Config> parseRoot(const YAML::Node& root, Config c) {
  if (!root.IsMap()) return keyError("<root>", "must be a mapping");
  if (auto s = readSection(root, "", c); !s) return s.takeError();
  if (auto s = checkDrivers(c); !s) return s.takeError();
  return c;
}

}  // namespace

std::span<const ConfigKey> configKeys() { return kKeys; }

std::string configKeysHelp() {
  std::string out;
  for (const auto& k : kKeys) {
    std::string line = "  " + std::string(k.name);
    line.resize(std::max<size_t>(line.size() + 1, 34), ' ');
    out += line + std::string(k.doc) + "\n";
  }
  return out;
}


Result<Config> loadConfigFile(const std::string& path, Config c) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(Code::kInvalidArgument, "config: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = parseConfig(text.str(), std::move(c));
  if (!parsed) {
    auto e = parsed.takeError();
    constexpr std::string_view kPrefix = "config: ";
    std::string_view rest = e.message;
    if (rest.substr(0, kPrefix.size()) == kPrefix) rest.remove_prefix(kPrefix.size());
    e.message = "config: " + path + ": " + std::string(rest);
    return e;
  }
  return parsed;
}

Result<Config> parseConfig(std::string_view yaml, Config c) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return makeError(Code::kInvalidArgument, std::string("config: ") + e.what());
  }
  if (root.IsNull()) return c;
  try {
    return parseRoot(root, std::move(c));
  } catch (const YAML::Exception& e) {  // a malformed node shape deep inside
    return makeError(Code::kInvalidArgument, std::string("config: ") + e.what());
  }
}

Result<std::pair<std::string, uint16_t>> parseListen(const std::string& listen) {
  auto bad = [&] { return makeError(Code::kInvalidArgument, "listen: expected HOST:PORT, got '" + listen + "'"); };
  std::string host;
  std::string_view port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') return bad();
    host = listen.substr(1, close - 1);
    port = std::string_view(listen).substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return bad();
    host = listen.substr(0, colon);
    port = std::string_view(listen).substr(colon + 1);
  }
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p > 65535 || port.empty()) return bad();
  if (host.empty()) host = "0.0.0.0";
  return std::pair{host, static_cast<uint16_t>(p)};
}

}  // namespace berth
