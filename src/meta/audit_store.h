#pragma once
// AuditStore: the durable audit log (who did what, from where, with which result).
// Rows are appended in batches by events::AuditLog's writer thread and read by the admin
// API (/api/v1/audit). Every method is one transaction; safe from any thread; may block.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace berth::meta {

// One audited request. Never holds a secret: no password, token, Authorization header
// or query string.
struct AuditRecord {
  int64_t id = 0;              // assigned by append(): increasing, never reused
  int64_t time_ms = 0;         // unix milliseconds
  std::string identity;        // identity name ("" anonymous); for a failed login the name tried
  std::string identity_kind;   // "user", "sp", "token", "federated", "oidc", "" anonymous
  std::string client;          // client address (X-Forwarded-For from trusted proxies)
  std::string action;          // "login", "pull", "push", "delete", "config", ... (docs/audit.md)
  std::string repository;      // "" when the request names none
  std::string tag;
  std::string digest;
  std::string method;          // HTTP method
  int64_t status = 0;          // HTTP status answered
  std::string result;          // "success", "denied" or "failed"
  std::string message;         // short detail: the error, the admin path, the granted scope
};

// Filters of list(); empty strings and zero times do not filter.
struct AuditQuery {
  std::string identity;
  std::string repository;
  std::string action;
  std::string result;
  int64_t since_ms = 0;   // time_ms >= since_ms
  int64_t until_ms = 0;   // time_ms < until_ms
  int64_t before_id = 0;  // id < before_id: the page after the one that ended at before_id
  size_t limit = 100;
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Appends the rows in one transaction, in order; sets each record's id.
  virtual Status append(std::vector<AuditRecord>& records) = 0;
  // Matching rows, newest (highest id) first, at most query.limit.
  virtual Result<std::vector<AuditRecord>> list(const AuditQuery& query) = 0;
  // Deletes rows older than `before_ms`; returns how many went.
  virtual Result<uint64_t> prune(int64_t before_ms) = 0;
};

}  // namespace berth::meta
