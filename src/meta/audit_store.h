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
  int64_t time_us = 0;         // unix microseconds: when the request arrived
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
  int64_t count = 1;           // identical requests this entry stands for (AuditLog merges
                               // those recorded within one write interval)
};

// Filters of list(); empty strings and zero times do not filter.
struct AuditQuery {
  std::string identity;
  std::string repository;
  std::string action;
  std::string result;
  int64_t since_us = 0;   // time_us >= since_us
  int64_t until_us = 0;   // time_us < until_us
  int64_t before_id = 0;  // the page after the one that ended with this entry
  size_t limit = 100;
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Appends the rows in one transaction, in order; sets each record's id.
  virtual Status append(std::vector<AuditRecord>& records) = 0;
  // Matching rows, newest first (by time, then id), at most query.limit. With before_id,
  // the rows after that entry in this order (none if it no longer exists).
  virtual Result<std::vector<AuditRecord>> list(const AuditQuery& query) = 0;
  // Deletes rows older than `before_us`; returns how many went.
  virtual Result<uint64_t> prune(int64_t before_us) = 0;
};

}  // namespace berth::meta
