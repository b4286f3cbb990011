#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "common/text.h"

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

Status readGc(const YAML::Node& node, GcConfig& gc) {
  if (auto s = checkKeys(node, "gc.", {"schedule", "grace_period", "interval", "upload_max_age"}); !s) return s;
  if (node["schedule"]) {
    if (auto s = readScalar(node["schedule"], "gc.schedule", gc.schedule); !s) {
      return keyError("gc.schedule", "must be true or false");
    }
  }
  if (node["grace_period"]) {
    // 0 lets a blob go the moment nothing references it, also between a push's blob upload
    // and its manifest (which then fails with MANIFEST_BLOB_UNKNOWN): for tests.
    if (auto s = readDuration(node["grace_period"], "gc.grace_period", gc.grace_period, true); !s) return s;
  }
  if (node["interval"]) {
    if (auto s = readDuration(node["interval"], "gc.interval", gc.interval, false); !s) return s;
  }
  if (node["upload_max_age"]) {
    if (auto s = readDuration(node["upload_max_age"], "gc.upload_max_age", gc.upload_max_age, false); !s) return s;
  }
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
Status parseAuth(const YAML::Node& node, AuthConfig& auth);

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

Status readTls(const YAML::Node& tls, Config& c) {
  if (auto s = checkKeys(tls, "tls.", {"certificates"}); !s) return s;
  auto certs = tls["certificates"];
  if (!certs) return {};
  if (!certs.IsSequence()) return keyError("tls.certificates", "must be a list of {cert: FILE, key: FILE}");
  std::vector<TlsCertificateFiles> out;
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
    out.push_back(std::move(files));
  }
  c.tls_certificates = std::move(out);
  return {};
}

Status readAudit(const YAML::Node& node, AuditConfig& audit) {
  if (auto s = checkKeys(node, "audit.", {"enabled", "file", "retention_days", "pulls"}); !s) return s;
  if (node["enabled"]) {
    if (auto s = readScalar(node["enabled"], "audit.enabled", audit.enabled); !s) {
      return keyError("audit.enabled", "must be true or false");
    }
  }
  if (node["pulls"]) {
    if (auto s = readScalar(node["pulls"], "audit.pulls", audit.pulls); !s) {
      return keyError("audit.pulls", "must be true or false");
    }
  }
  if (node["file"]) {
    if (auto s = readScalar(node["file"], "audit.file", audit.file); !s) return s;
    if (audit.file.empty()) return keyError("audit.file", "must name a file (or leave the key out)");
  }
  if (node["retention_days"]) {
    if (auto s = readScalar(node["retention_days"], "audit.retention_days", audit.retention_days); !s) {
      return keyError("audit.retention_days", "must be a whole number of days");
    }
    if (audit.retention_days < 0 || audit.retention_days > 36500) {
      return keyError("audit.retention_days", "must be from 0 (keep forever) to 36500");
    }
  }
  return {};
}

Status readRecycleBin(const YAML::Node& node, RecycleBinConfig& bin) {
  if (auto s = checkKeys(node, "recycle_bin.", {"enabled", "retention_days"}); !s) return s;
  if (node["enabled"]) {
    if (auto s = readScalar(node["enabled"], "recycle_bin.enabled", bin.enabled); !s) {
      return keyError("recycle_bin.enabled", "must be true or false");
    }
  }
  if (node["retention_days"]) {
    if (auto s = readScalar(node["retention_days"], "recycle_bin.retention_days", bin.retention_days); !s) {
      return keyError("recycle_bin.retention_days", "must be a whole number of days");
    }
    if (bin.retention_days < 1 || bin.retention_days > 90) {
      return keyError("recycle_bin.retention_days", "must be from 1 to 90");
    }
  }
  return {};
}

Status readRetention(const YAML::Node& node, RetentionConfig& retention) {
  if (auto s = checkKeys(node, "retention.", {"schedule", "interval"}); !s) return s;
  if (node["schedule"]) {
    if (auto s = readScalar(node["schedule"], "retention.schedule", retention.schedule); !s) {
      return keyError("retention.schedule", "must be true or false");
    }
  }
  if (node["interval"]) {
    if (auto s = readDuration(node["interval"], "retention.interval", retention.interval, false); !s) return s;
  }
  return {};
}

}  // namespace

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

namespace {
Result<Config> parseRoot(const YAML::Node& root, Config c) {
  if (auto s = checkKeys(root, "", {"listen", "data", "log", "server", "cache", "auth", "tls", "metrics",
                                   "usage", "audit", "gc", "recycle_bin", "retention"});
      !s)
    return s.takeError();
  if (root["auth"]) {
    if (auto s = parseAuth(root["auth"], c.auth); !s) return s.takeError();
  }
  if (root["listen"]) {
    if (auto s = readScalar(root["listen"], "listen", c.listen); !s) return s.takeError();
    if (auto r = parseListen(c.listen); !r) return keyError("listen", "expected HOST:PORT, got '" + c.listen + "'");
  }
  if (root["data"]) {
    if (auto s = readScalar(root["data"], "data", c.data_dir); !s) return s.takeError();
  }
  if (auto metrics = root["metrics"]) {
    if (auto s = checkKeys(metrics, "metrics.", {"anonymous"}); !s) return s.takeError();
    if (metrics["anonymous"] && !readScalar(metrics["anonymous"], "metrics.anonymous", c.metrics_anonymous)) {
      return keyError("metrics.anonymous", "must be true or false");
    }
  }
  if (auto usage = root["usage"]) {
    if (auto s = checkKeys(usage, "usage.", {"flush_interval"}); !s) return s.takeError();
    if (usage["flush_interval"]) {
      if (auto s = readSeconds(usage["flush_interval"], "usage.flush_interval", c.usage_flush_interval); !s) {
        return s.takeError();
      }
    }
  }
  if (auto log = root["log"]) {
    if (auto s = checkKeys(log, "log.", {"level", "access"}); !s) return s.takeError();
    if (log["level"]) {
      if (auto s = readScalar(log["level"], "log.level", c.log_level); !s) return s.takeError();
      if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" && c.log_level != "error")
        return keyError("log.level", "must be debug, info, warn or error");
    }
    if (log["access"]) {
      if (auto s = readScalar(log["access"], "log.access", c.access_log); !s) return s.takeError();
    }
  }
  if (auto srv = root["server"]) {
    if (auto s = checkKeys(srv, "server.", {"io_threads", "blocking_threads", "max_manifest_bytes",
                                            "max_header_bytes", "header_timeout", "idle_timeout",
                                            "body_stall_timeout", "max_connections", "shutdown_grace",
                                            "max_header_count", "max_target_bytes",
                                            "max_uploads_per_repository", "max_uploads_per_client",
                                            "max_upload_bytes", "min_body_rate", "trusted_proxies"});
        !s)
      return s.takeError();
    if (srv["io_threads"]) {
      if (auto s = readScalar(srv["io_threads"], "server.io_threads", c.io_threads); !s) return s.takeError();
      if (c.io_threads > 256) return keyError("server.io_threads", "must be at most 256");
    }
    if (srv["blocking_threads"]) {
      if (auto s = readScalar(srv["blocking_threads"], "server.blocking_threads", c.blocking_threads); !s) return s.takeError();
      if (c.blocking_threads == 0 || c.blocking_threads > 1024) {
        return keyError("server.blocking_threads", "must be from 1 to 1024");
      }
    }
    if (srv["max_manifest_bytes"]) {
      if (auto s = readScalar(srv["max_manifest_bytes"], "server.max_manifest_bytes", c.limits.max_manifest_bytes); !s) return s.takeError();
      // The OCI distribution spec's limit (4 MiB) is the most any manifest may be.
      if (c.limits.max_manifest_bytes == 0 || c.limits.max_manifest_bytes > 4 * 1024 * 1024) {
        return keyError("server.max_manifest_bytes", "must be from 1 to 4194304 (4 MiB)");
      }
    }
    if (srv["max_header_bytes"]) {
      if (auto s = readScalar(srv["max_header_bytes"], "server.max_header_bytes", c.limits.max_header_bytes); !s) return s.takeError();
      // Beast takes the header limit as a uint32_t.
      if (c.limits.max_header_bytes > UINT32_MAX) return keyError("server.max_header_bytes", "must be at most 4294967295");
    }
    if (srv["max_connections"]) { if (auto s = readScalar(srv["max_connections"], "server.max_connections", c.limits.max_connections); !s) return s.takeError(); }
    if (srv["header_timeout"]) { if (auto s = readSeconds(srv["header_timeout"], "server.header_timeout", c.limits.header_timeout); !s) return s.takeError(); }
    if (srv["idle_timeout"]) { if (auto s = readSeconds(srv["idle_timeout"], "server.idle_timeout", c.limits.idle_timeout); !s) return s.takeError(); }
    if (srv["body_stall_timeout"]) { if (auto s = readSeconds(srv["body_stall_timeout"], "server.body_stall_timeout", c.limits.body_stall_timeout); !s) return s.takeError(); }
    if (srv["min_body_rate"]) {
      if (auto s = readScalar(srv["min_body_rate"], "server.min_body_rate", c.limits.min_body_rate); !s) return s.takeError();
      if (c.limits.min_body_rate > (1ull << 30)) return keyError("server.min_body_rate", "must be at most 1073741824 bytes/s");
    }
    if (srv["max_header_count"]) { if (auto s = readScalar(srv["max_header_count"], "server.max_header_count", c.limits.max_header_count); !s) return s.takeError(); }
    if (srv["max_target_bytes"]) { if (auto s = readScalar(srv["max_target_bytes"], "server.max_target_bytes", c.limits.max_target_bytes); !s) return s.takeError(); }
    if (srv["max_uploads_per_repository"]) { if (auto s = readScalar(srv["max_uploads_per_repository"], "server.max_uploads_per_repository", c.limits.max_uploads_per_repository); !s) return s.takeError(); }
    if (srv["max_uploads_per_client"]) { if (auto s = readScalar(srv["max_uploads_per_client"], "server.max_uploads_per_client", c.limits.max_uploads_per_client); !s) return s.takeError(); }
    if (srv["max_upload_bytes"]) {
      if (auto s = readScalar(srv["max_upload_bytes"], "server.max_upload_bytes", c.limits.max_upload_bytes); !s) return s.takeError();
      if (c.limits.max_upload_bytes == 0) return keyError("server.max_upload_bytes", "must be at least 1");
    }
    if (srv["shutdown_grace"]) { if (auto s = readSeconds(srv["shutdown_grace"], "server.shutdown_grace", c.shutdown_grace); !s) return s.takeError(); }
    if (srv["trusted_proxies"]) {
      if (auto s = readTrustedProxies(srv["trusted_proxies"], c.trusted_proxies); !s) return s.takeError();
    }
  }
  if (auto cache = root["cache"]) {
    if (auto s = checkKeys(cache, "cache.", {"manifest_bytes"}); !s) return s.takeError();
    if (cache["manifest_bytes"]) { if (auto s = readScalar(cache["manifest_bytes"], "cache.manifest_bytes", c.manifest_cache_bytes); !s) return s.takeError(); }
  }
  if (auto tls = root["tls"]) {
    if (auto s = readTls(tls, c); !s) return s.takeError();
  }
  if (auto audit = root["audit"]) {
    if (auto s = readAudit(audit, c.audit); !s) return s.takeError();
  }
  if (auto gc = root["gc"]) {
    if (auto s = readGc(gc, c.gc); !s) return s.takeError();
  }
  if (auto bin = root["recycle_bin"]) {
    if (auto s = readRecycleBin(bin, c.recycle_bin); !s) return s.takeError();
  }
  if (auto retention = root["retention"]) {
    if (auto s = readRetention(retention, c.retention); !s) return s.takeError();
  }
  return c;
}

Status readTtl(const YAML::Node& node, const std::string& key, int64_t& out) {
  std::chrono::seconds v{out};
  if (auto s = readSeconds(node, key, v); !s) return s;
  out = v.count();
  return {};
}

// `auth: none`, or a mapping.
Status parseAuth(const YAML::Node& node, AuthConfig& auth) {
  if (node.IsScalar()) {
    std::string mode = node.as<std::string>();
    if (mode == "none") {
      auth.enabled = false;
      return {};
    }
    if (mode == "token") return {};
    return keyError("auth", "must be none, token or a mapping");
  }
  if (auto s = checkKeys(node, "auth.", {"service", "issuer", "access_token_ttl", "refresh_token_ttl",
                                         "signing_key", "oidc"});
      !s)
    return s;
  auto text = [&](const char* key, std::string& out) -> Status {
    if (!node[key]) return {};
    if (auto s = readScalar(node[key], std::string("auth.") + key, out); !s) return s;
    if (out.empty()) return keyError(std::string("auth.") + key, "must not be empty");
    return {};
  };
  if (auto s = text("service", auth.service); !s) return s;
  if (auto s = text("issuer", auth.issuer); !s) return s;
  if (auto s = text("signing_key", auth.signing_key); !s) return s;
  for (char ch : auth.service) {
    if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x21) {
      return keyError("auth.service", "must be printable without quotes or spaces");
    }
  }
  if (node["access_token_ttl"]) {
    if (auto s = readTtl(node["access_token_ttl"], "auth.access_token_ttl", auth.access_token_ttl); !s) return s;
  }
  if (node["refresh_token_ttl"]) {
    if (auto s = readTtl(node["refresh_token_ttl"], "auth.refresh_token_ttl", auth.refresh_token_ttl); !s) return s;
  }
  if (auto oidc = node["oidc"]) {
    if (!oidc.IsSequence()) return keyError("auth.oidc", "must be a list of issuers");
    for (size_t i = 0; i < oidc.size(); ++i) {
      const std::string prefix = "auth.oidc[" + std::to_string(i) + "].";
      if (auto s = checkKeys(oidc[i], prefix, {"issuer", "audience", "jwks_file", "jwks_url"}); !s) return s;
      OidcIssuerConfig o;
      for (auto [key, out] : {std::pair{"issuer", &o.issuer}, std::pair{"audience", &o.audience},
                              std::pair{"jwks_file", &o.jwks_file}, std::pair{"jwks_url", &o.jwks_url}}) {
        const bool optional = std::string_view(key).starts_with("jwks_");
        if (!oidc[i][key]) {
          if (optional) continue;
          return keyError(prefix + key, "is required");
        }
        if (auto s = readScalar(oidc[i][key], prefix + key, *out); !s) return s;
        if (out->empty()) return keyError(prefix + key, "must not be empty");
      }
      if (o.jwks_file.empty() == o.jwks_url.empty()) {
        return keyError(prefix + "jwks_file", "give exactly one of jwks_file and jwks_url");
      }
      if (!o.jwks_url.empty() && !o.jwks_url.starts_with("https://") && !o.jwks_url.starts_with("http://")) {
        return keyError(prefix + "jwks_url", "must be an http(s) URL");
      }
      auth.oidc.push_back(std::move(o));
    }
  }
  return {};
}
}  // namespace

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
