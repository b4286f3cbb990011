// berth: the registry server and its command-line tools.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <condition_variable>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>
#include <thread>

#include "api/api.h"
#include "events/audit_log.h"
#include "events/dispatcher.h"
#include "auth/access_control.h"
#include "common/text.h"
#include "cli/commands.h"
#include "cli/http_client.h"
#include "common/log.h"
#include "config/config.h"
#include "lifecycle/recycle_bin.h"
#include "lifecycle/retention.h"
#include "meta/identity_store.h"
#include "meta/audit_store.h"
#include "meta/fleet_store.h"
#include "meta/gc_store.h"
#include "meta/properties_store.h"
#include "meta/quota_store.h"
#include "meta/recycle_store.h"
#include "meta/retention_store.h"
#include "meta/usage_store.h"
#include "meta/webhook_store.h"
#include "metrics/http_metrics.h"
#include "metrics/registry.h"
#include "replication/replicator.h"
#include "registry/fleet_leases.h"
#include "registry/registry.h"
#include "registry/stores.h"
#include "registry/usage_recorder.h"
#include "server/http_server.h"

namespace {

using namespace berth;

constexpr const char* kVersion = "0.1.0";

// Raises the open-file limit to the hard limit: every connection and open blob is a file.
uint64_t raiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

std::string readFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  *ok = static_cast<bool>(in);
  return ss.str();
}

// GET of an OIDC issuer's JWKS document (small; 10 s timeout).
Result<std::string> fetchUrl(const std::string& url) {
  cli::HttpClient client(cli::HttpOptions{{}, 10, 10});
  auto res = client.send(cli::HttpRequest{"GET", url, {"Accept: application/json"}, {}});
  if (!res) return res.takeError();
  if (res->status != 200) {
    return makeError(Code::kUnavailable, url + " answered HTTP " + std::to_string(res->status));
  }
  if (res->body.size() > (1u << 20)) return makeError(Code::kInvalidArgument, url + ": JWKS larger than 1 MiB");
  return std::move(res->body);
}

// Keeps remote OIDC key sets fresh: fetched at start (retried every 30 s until it works),
// then every 10 minutes. Stops (joins) when `stop` is set and the condition signalled.
class OidcRefresher {
 public:
  explicit OidcRefresher(const auth::AccessControl* access) {
    if (access == nullptr) return;
    std::vector<std::shared_ptr<auth::JwksSource>> remote;
    for (const auto& o : access->oidcIssuers()) {
      if (o.jwks->isRemote()) remote.push_back(o.jwks);
    }
    if (remote.empty()) return;
    thread_ = std::thread([this, remote] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stop_) {
        lock.unlock();
        for (const auto& j : remote) j->refreshIfStale(unixNow(), /*max_age=*/600, /*min_gap=*/30);
        lock.lock();
        cv_.wait_for(lock, std::chrono::seconds(30), [this] { return stop_; });
      }
    });
  }
  ~OidcRefresher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// Token signing key, OIDC issuers, the identity view, and the first admin.
// The token signing key: the configured file; else, for replicas, the key each derives
// from the shared replication secret; else, for a fleet over PostgreSQL, the one key every
// node shares (made by whichever node starts first); else a file in the data directory
// (created if missing).
Result<auth::SigningKey> signingKey(const Config& config, meta::FleetStore& fleet) {
  if (config.auth.signing_key.empty() && !config.replication.region.empty()) {
    // Replicas: the key every replica derives from the shared secret.
    auto secret = replication::readSecretFile(config.replication.secret_file);
    if (!secret) return secret.takeError();
    auto key = auth::SigningKey::fromPem(replication::signingKeyPem(*secret));
    if (!key) return makeError(key.code(), "the replicas' token signing key: " + key.error().message);
    return key;
  }
  if (config.auth.signing_key.empty() && config.meta.driver != "sqlite") {
    std::optional<Error> failed;
    auto pem = fleet.sharedValue("token-signing-key", [&] {
      auto made = auth::SigningKey::generate();
      if (!made) {
        failed = made.takeError();
        return std::string();
      }
      return made->privateKeyPem();
    });
    if (failed) return *failed;
    if (!pem) return pem.takeError();
    auto key = auth::SigningKey::fromPem(*pem);
    if (!key) return makeError(key.code(), "the shared token signing key: " + key.error().message);
    return key;
  }
  const std::string key_path = config.auth.signing_key.empty()
                                   ? (std::filesystem::path(config.data_dir) / "token-signing-key.pem").string()
                                   : config.auth.signing_key;
  return auth::loadOrCreateSigningKey(key_path);
}

// berth_replication_*: the peers of GET /api/v1/replication summed up (the per-peer detail
// is there), read at scrape time.
void addReplicationMetrics(metrics::Registry& metrics, replication::Replicator& r) {
  auto over = [&r](auto pick) {
    return [&r, pick]() -> std::optional<double> {
      double total = 0;
      for (const auto& p : r.status()) total = pick(total, p);
      return total;
    };
  };
  metrics.gaugeFunction("berth_replication_lag_seconds",
                        "The largest age, over peers, of a peer's write not applied here yet (0: all synced).",
                        over([](double t, const replication::PeerStatus& p) { return std::max(t, p.lag_seconds); }));
  metrics.gaugeFunction("berth_replication_pending_operations", "Peers' journal entries not applied here yet.",
                        over([](double t, const replication::PeerStatus& p) {
                          return t + static_cast<double>(p.pending_operations);
                        }));
  metrics.gaugeFunction("berth_replication_pending_bytes", "Blob bytes still to fetch for the writes being applied.",
                        over([](double t, const replication::PeerStatus& p) {
                          return t + static_cast<double>(p.pending_bytes);
                        }));
  metrics.gaugeFunction("berth_replication_peers_down", "Peers that cannot be read (unreachable, or refusing).",
                        over([](double t, const replication::PeerStatus& p) {
                          return t + (p.state == "unreachable" || p.state == "error" ? 1.0 : 0.0);
                        }));
  auto sum = [&r](auto field) {
    return [&r, field]() -> uint64_t {
      uint64_t total = 0;
      for (const auto& p : r.status()) total += field(p);
      return total;
    };
  };
  metrics.counterFunction("berth_replication_applied_total", "Peers' writes applied here.",
                          sum([](const replication::PeerStatus& p) { return p.applied_total; }));
  metrics.counterFunction("berth_replication_bytes_total", "Blob bytes fetched from peers.",
                          sum([](const replication::PeerStatus& p) { return p.bytes_total; }));
  metrics.counterFunction("berth_replication_conflicts_total",
                          "Writes that lost to a newer one of another replica (each recorded in the audit log).",
                          sum([](const replication::PeerStatus& p) { return p.conflicts_total; }));
}

// Geo-replication (docs/replication.md), when replication.region is set; nullptr otherwise.
// `reload`: after configuration arrived from a peer (identities, webhooks, ...).
Result<std::unique_ptr<replication::Replicator>> makeReplicator(const Config& config, registry::Registry& registry,
                                                               events::AuditLog* audit, std::function<void()> reload) {
  const auto& rc = config.replication;
  if (rc.region.empty()) return std::unique_ptr<replication::Replicator>();
  auto secret = replication::readSecretFile(rc.secret_file);
  if (!secret) return secret.takeError();
  replication::ReplicatorOptions options;
  options.region = rc.region;
  // The peer holds each journal read up to a second until there is something new (a long
  // poll): asking again right away keeps the lag at the peer's check interval.
  options.poll = std::chrono::milliseconds(10);
  std::vector<std::string> regions;
  for (const auto& p : rc.peers) {
    options.peers.push_back({p.region, p.url});
    regions.push_back(p.region);
  }
  auto auth = std::make_shared<replication::PeerAuth>(std::move(*secret), rc.region, std::move(regions));
  return std::make_unique<replication::Replicator>(registry, std::move(auth), std::move(options), audit,
                                                   std::move(reload));
}

Result<std::unique_ptr<auth::AccessControl>> makeAccessControl(const Config& config,
                                                               meta::IdentityStore& store,
                                                               meta::FleetStore& fleet) {
  auto key = signingKey(config, fleet);
  if (!key) return key.takeError();
  auth::TokenSettings ts;
  ts.issuer = config.auth.issuer;
  ts.service = config.auth.service;
  ts.access_ttl = config.auth.access_token_ttl;
  ts.refresh_ttl = config.auth.refresh_token_ttl;
  auth::AccessOptions options;
  for (const auto& o : config.auth.oidc) {
    if (!o.jwks_url.empty()) {
      // Fetched in the background (startOidcRefresh); an issuer that is down at start
      // only delays federated logins, it does not stop the registry.
      options.oidc.push_back({o.issuer, o.audience, auth::JwksSource::remote(o.jwks_url, fetchUrl)});
      continue;
    }
    bool ok = false;
    std::string jwks = readFile(o.jwks_file, &ok);
    if (!ok) return makeError(Code::kInvalidArgument, "auth.oidc: cannot read " + o.jwks_file);
    auth::KeySet keys;
    auto added = keys.addJwks(jwks);
    if (!added) return makeError(Code::kInvalidArgument, o.jwks_file + ": " + added.error().message);
    if (*added == 0) return makeError(Code::kInvalidArgument, o.jwks_file + ": no usable signing key");
    options.oidc.push_back({o.issuer, o.audience, auth::JwksSource::fixed(std::move(keys))});
  }
  auto access = std::make_unique<auth::AccessControl>(store, auth::TokenService(std::move(*key), ts),
                                                      std::move(options));
  if (auto s = access->reload(); !s) return s.takeError();
  std::string password;
  const bool from_env = std::getenv("BERTH_ADMIN_PASSWORD") != nullptr;
  if (from_env) {
    password = std::getenv("BERTH_ADMIN_PASSWORD");
    unsetenv("BERTH_ADMIN_PASSWORD");  // not inherited by anything we start
    if (password.size() < 8) {
      return makeError(Code::kInvalidArgument, "BERTH_ADMIN_PASSWORD must have at least 8 characters");
    }
  }
  auto created = access->bootstrap(password, unixNow(), !config.replication.region.empty());
  if (!created) return created.takeError();
  if (*created) {
    if (!from_env) {
      // One write(2) of less than PIPE_BUF bytes: the logger's thread, writing to the same
      // stderr, can not land in the middle of it.
      const std::string banner =
          "\n  Berth created the user 'admin' (owner). Its password, shown only this once:\n\n    " +
          **created + "\n\n  Log in with: berth login <registry> -u admin\n\n";
      std::fflush(stderr);
      for (size_t done = 0; done < banner.size();) {
        const ssize_t n = ::write(STDERR_FILENO, banner.data() + done, banner.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
      }
    }
    log::info("created the first identity: user admin with the owner role",
              {{"password_from", from_env ? "BERTH_ADMIN_PASSWORD" : "generated, printed once on stderr"}});
  }
  return access;
}

int serve(const Config& config) {
  // Signals are handled by one thread with sigwait; every other thread (the logger's
  // included, so this comes first) has them blocked. A client that closes its socket must
  // not kill the process (SIGPIPE).
  signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  bool ok = false;
  log::init(log::parseLevel(config.log_level, &ok), /*async=*/true);
  if (!ok) {
    std::cerr << "config: log.level: must be debug, info, warn or error\n";
    return 2;
  }

  auto stores = registry::openStores(config);
  if (!stores) {
    log::error("cannot open storage", {{"error", stores.error().message}});
    return 1;
  }
  auto& meta = stores->meta;
  auto identities = meta->identityStore();
  std::shared_ptr<meta::WebhookStore> webhooks = meta->webhookStore();
  std::unique_ptr<meta::PropertiesStore> properties = meta->propertiesStore();
  // Traffic counters: aggregated in memory, flushed every interval and at shutdown.
  std::shared_ptr<meta::UsageStore> usage_store = meta->usageStore();
  registry::UsageRecorder usage(usage_store, config.usage_flush_interval);
  std::shared_ptr<meta::AuditStore> audit_store = meta->auditStore();
  std::unique_ptr<meta::QuotaStore> quotas = meta->quotaStore();
  std::shared_ptr<meta::GcStore> gc_store = meta->gcStore();
  // Deletes go to the recycle bin while it is on; expired items are purged either way.
  meta->setRecycleBin({config.recycle_bin.enabled, config.recycle_bin.retention_days * 24 * 3600});
  std::shared_ptr<meta::RecycleStore> recycle_store = meta->recycleStore();
  std::shared_ptr<meta::RetentionStore> retention_store = meta->retentionStore();
  std::unique_ptr<auth::AccessControl> access;
  if (config.auth.enabled) {
    auto made = makeAccessControl(config, *identities, *meta->fleetStore());
    if (!made) {
      log::error("cannot set up authentication", {{"error", made.error().message}});
      return 1;
    }
    access = std::move(*made);
  } else {
    log::warn("authentication is off (auth: none): anyone who can connect can push, pull and delete", {});
  }
  registry::RegistryOptions options;
  options.manifest_cache_bytes = config.manifest_cache_bytes;
  options.max_manifest_bytes = config.limits.max_manifest_bytes;
  options.max_uploads_per_repository = config.limits.max_uploads_per_repository;
  options.max_uploads_per_client = config.limits.max_uploads_per_client;
  options.max_upload_bytes = config.limits.max_upload_bytes;
  if (config.storage.redirect) options.blob_redirect_ttl = config.storage.redirect_ttl;
  // A fleet (nodes over PostgreSQL) runs background work on one node at a time, through
  // leases in the database; a single process over SQLite runs it all itself.
  std::unique_ptr<registry::FleetLeases> leases;
  if (config.meta.driver != "sqlite") {
    leases = std::make_unique<registry::FleetLeases>(meta->fleetStore(), registry::FleetLeases::nodeName());
    leases->want("webhooks");
    leases->start();
    log::info("joined the fleet", {{"node", leases->node()}});
  }
  registry::Registry registry(stores->blobs, std::move(stores->meta), options);
  // Webhook delivery resumes from each webhook's durable cursor; pushes wake it.
  events::DispatcherOptions dispatcher_options;
  if (leases) dispatcher_options.active = [l = leases.get()] { return l->holds("webhooks"); };
  // With replication, which webhooks this replica delivers depends on where it is
  // (events::wants).
  dispatcher_options.region = config.replication.region;
  events::Dispatcher dispatcher(webhooks, dispatcher_options);
  if (auto s = dispatcher.reload(); !s) {
    log::error("cannot start webhook delivery", {{"error", s.error().message}});
    return 1;
  }
  registry.setEventListener([&dispatcher] { dispatcher.notify(); });
  // A fleet keeps every node's caches true: a change committed on any node reaches the
  // caches of all before the writer answers (meta/change_feed.h).
  std::unique_ptr<meta::ChangeFeed> feed;
  if (leases) feed = registry.metaStore().changeFeed(leases->node());
  if (feed) {
    registry.setChangeFeed(feed.get());
    auto reloadIdentities = [a = access.get()] {
      if (a == nullptr) return;
      if (auto s = a->reload(); !s) log::warn("cannot reload the identities", {{"error", s.error().message}});
    };
    auto reloadWebhooks = [&dispatcher] {
      if (auto s = dispatcher.reload(); !s) log::warn("cannot reload the webhooks", {{"error", s.error().message}});
    };
    meta::ChangeHandlers handlers;
    handlers.repository = [&registry](const std::string& repository) { registry.forget(repository); };
    handlers.identities = reloadIdentities;
    handlers.webhooks = reloadWebhooks;
    handlers.everything = [&registry, reloadIdentities, reloadWebhooks] {
      registry.clearCaches();
      reloadIdentities();
      reloadWebhooks();
    };
    handlers.trusted_until = [&registry](std::chrono::steady_clock::time_point t) { registry.trustCachesUntil(t); };
    if (auto s = feed->start(std::move(handlers)); !s) {
      log::error("cannot start the fleet's change feed", {{"error", s.error().message}});
      return 1;
    }
  }
  metrics::Registry metrics;
  metrics.info("berth_build_info", "The running Berth's version.", {{"version", kVersion}});
  metrics::HttpMetrics http_metrics(metrics);
  api::addRegistryMetrics(metrics, registry);
  api::addStorageMetrics(metrics, usage_store);
  metrics.counterFunction("berth_webhook_deliveries_total", "Webhook deliveries the receiver answered with 2xx.",
                          [&dispatcher] { return dispatcher.delivered(); });
  metrics.counterFunction("berth_webhook_delivery_failures_total",
                          "Webhook delivery attempts that failed (each retry counts).",
                          [&dispatcher] { return dispatcher.failedAttempts(); });
  metrics.gaugeFunction("berth_webhook_queue_depth",
                        "Events the enabled webhooks have not got past yet, summed over webhooks.",
                        [&dispatcher]() -> std::optional<double> {
                          auto depth = dispatcher.queueDepth();
                          if (!depth) return std::nullopt;
                          return static_cast<double>(*depth);
                        });
  usage.start();
  // Garbage collection: on a schedule and on demand (/api/v1/gc), serving all the while.
  registry::GcOptions gc_options;
  gc_options.grace_period = config.gc.grace_period;
  gc_options.interval = config.gc.interval;
  gc_options.upload_max_age = config.gc.upload_max_age;
  gc_options.state_file = (std::filesystem::path(config.data_dir) / "gc-last-run.json").string();
  gc_options.leases = leases.get();
  registry::GarbageCollector gc(registry, gc_store, gc_options);
  if (config.gc.grace_period.count() == 0) {
    log::warn("gc.grace_period is 0: a blob can be collected between its upload and its manifest push", {});
  }
  api::addGcMetrics(metrics, gc);
  if (config.gc.schedule) gc.start();
  lifecycle::RecycleBin recycle_bin(recycle_store, registry, std::chrono::hours(1), leases.get());
  recycle_bin.start();
  // Purge on demand; stored retention policies every retention.interval.
  lifecycle::RetentionOptions retention_options;
  retention_options.schedule = config.retention.schedule;
  retention_options.interval = config.retention.interval;
  retention_options.recycle_bin = config.recycle_bin.enabled;
  retention_options.leases = leases.get();
  lifecycle::Retention retention(registry, retention_store, &usage, retention_options);
  api::addRetentionMetrics(metrics, retention);
  // The audit log needs identities: it is off with `auth: none`.
  std::unique_ptr<events::AuditLog> audit;
  if (access && config.audit.enabled) {
    events::AuditOptions audit_options;
    audit_options.file = config.audit.file;
    audit_options.retention_days = config.audit.retention_days;
    audit_options.pulls = config.audit.pulls;
    audit = std::make_unique<events::AuditLog>(audit_store, audit_options);
    audit->setKindResolver([a = access.get()](std::string_view name) {
      const auto view = a->view();
      const meta::IdentityRecord* r = view->byName(name);
      return r != nullptr ? std::string(meta::kindName(r->kind)) : std::string();
    });
    if (auto s = audit->start(); !s) {
      log::error("cannot start the audit log", {{"error", s.error().message}});
      return 1;
    }
    retention.setAudit(audit.get());
    metrics.counterFunction("berth_audit_entries_written_total", "Audit entries stored in the database.",
                            [a = audit.get()] { return a->written(); });
    metrics.counterFunction("berth_audit_entries_dropped_total",
                            "Audit entries dropped because the audit queue was full.",
                            [a = audit.get()] { return a->dropped(); });
    metrics.counterFunction("berth_audit_entries_failed_total",
                            "Audit entries the database refused (still in audit.file if set).",
                            [a = audit.get()] { return a->failed(); });
  }
  retention.start();  // after setAudit: the schedule's deletes are audited
  auto replicator = makeReplicator(config, registry, audit.get(), [a = access.get(), &dispatcher] {
    if (a != nullptr) {
      if (auto s = a->reload(); !s) log::warn("cannot reload the identities", {{"error", s.error().message}});
    }
    if (auto s = dispatcher.reload(); !s) log::warn("cannot reload the webhooks", {{"error", s.error().message}});
  });
  if (!replicator) {
    log::error("cannot set up replication", {{"error", replicator.error().message}});
    return 1;
  }
  if (*replicator) {
    addReplicationMetrics(metrics, **replicator);
    (*replicator)->start();
    log::info("replicating", {{"region", config.replication.region}, {"peers", config.replication.peers.size()}});
  }
  api::ApiParts parts{registry, usage, *properties, dispatcher, *quotas, gc, retention, recycle_bin,
                      access.get(), audit.get(), replicator->get(),
                      api::MetricsEndpoint{&metrics, config.metrics_anonymous}};
  api::Api api(parts);
  OidcRefresher oidc_refresher(access.get());
  server::HttpServer server(config, [&api](server::Exchange& ex) { return api.handle(ex); }, &http_metrics);
  if (auto s = server.loadTls(); !s) {
    log::error("cannot load TLS certificates", {{"error", s.error().message}});
    return 1;
  }
  if (auto s = server.bind(); !s) {
    log::error("cannot listen", {{"listen", config.listen}, {"error", s.error().message}});
    return 1;
  }
  auto files = raiseFileLimit();
  log::info("listening", {{"address", server.address()},
                          {"data", config.data_dir},
                          {"open_file_limit", files},
                          {"auth", access ? "token" : "none"}});
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    log::info("signal received", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    server.stop();
  });
  server.run();
  if (*replicator) (*replicator)->stop();
  retention.stop();
  gc.stop();
  usage.stop();  // every request is done: the last counts go to the database
  if (audit) audit->stop();  // writes what the last requests recorded
  recycle_bin.stop();
  if (feed) feed->stop();  // the other nodes stop waiting for this one
  dispatcher.stop();
  if (leases) leases->stop();  // the other nodes take over at once
  log::info("stopped");
  log::flush();
  // The signal thread is still in sigwait if run() ended for another reason; wake it.
  if (signal_thread.joinable()) {
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Berth: a container registry (OCI Distribution 1.1 and Docker Registry v2)"};
  app.require_subcommand(1);
  std::string config_file, listen, data;
  auto* serve_cmd = app.add_subcommand("serve", "Serve the registry API over HTTP");
  serve_cmd->add_option("-c,--config", config_file, "YAML configuration file (flags override it)")
      ->check(CLI::ExistingFile);
  serve_cmd->add_option("-l,--listen", listen, "Address to listen on, HOST:PORT (default 127.0.0.1:5000; port 0 picks a free port)");
  serve_cmd->add_option("-d,--data", data, "Data directory: blobs and the metadata database (default ./data)");
  serve_cmd->footer("Configuration file keys (YAML; all optional; `auth: none` turns authentication off):\n" +
                    configKeysHelp() + "Signals: SIGTERM/SIGINT drain in-flight requests and exit 0.");
  auto* version_cmd = app.add_subcommand("version", "Print the version");
  int cli_exit = -1;  // set by the client command that ran
  berth::cli::addCommands(app, cli_exit);
  CLI11_PARSE(app, argc, argv);
  if (cli_exit >= 0) return cli_exit;

  if (version_cmd->parsed()) {
    std::cout << "berth " << kVersion << "\n";
    return 0;
  }
  Config config;
  if (!config_file.empty()) {
    auto loaded = loadConfigFile(config_file);
    if (!loaded) {
      std::cerr << loaded.error().message << "\n";
      return 2;
    }
    config = std::move(*loaded);
  }
  if (!listen.empty()) config.listen = listen;
  if (!data.empty()) config.data_dir = data;
  if (auto hp = parseListen(config.listen); !hp) {
    std::cerr << hp.error().message << "\n";
    return 2;
  }
  return serve(config);
}
