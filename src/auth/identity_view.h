#pragma once
// IdentityView: an immutable, indexed copy of the IdentityStore's snapshot with each
// identity's grants resolved (role assignments, or a token's scope map). AccessControl
// swaps in a new view after every change, so requests read it without locks or I/O.
#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/policy.h"
#include "common/cidr.h"
#include "meta/identity_store.h"

namespace berth::auth {

// Setting keys in the IdentityStore.
inline constexpr std::string_view kSettingAnonymousPull = "anonymous_pull";
inline constexpr std::string_view kSettingNetworkDefault = "network_default_action";
inline constexpr std::string_view kSettingNetworkRules = "network_ip_rules";  // JSON array

class IdentityView {
 public:
  explicit IdentityView(meta::IdentitySnapshot snapshot);
  IdentityView(const IdentityView&) = delete;  // indexes point into snapshot_
  IdentityView& operator=(const IdentityView&) = delete;

  const meta::IdentitySnapshot& snapshot() const { return snapshot_; }
  int64_t generation() const { return snapshot_.generation; }
  const meta::IdentityRecord* byName(std::string_view name) const;
  const meta::IdentityRecord* byId(std::string_view id) const;
  const meta::ScopeMap* scopeMap(std::string_view name) const;
  // The identity's grants; empty for unknown ids. Not filtered by enabled/expiry.
  const Grants& grants(std::string_view id) const;
  // Enabled and not expired at `now`.
  static bool usable(const meta::IdentityRecord& identity, int64_t now);

  bool anonymousPull() const { return anonymous_pull_; }
  // Network rules: default action Allow, or Deny except for the listed ranges.
  bool defaultAllow() const { return default_allow_; }
  const CidrSet& allowedRanges() const { return allowed_; }
  bool allowsClient(std::string_view address) const;
  std::string setting(std::string_view key) const;

  // Federated identities of `issuer` matched by the ID token's claims. An "email" claim
  // matches only with "email_verified": true (an issuer may let anyone set any address).
  // The "sub" and "groups" claims match as they are.
  static bool emailVerified(const boost::json::object& claims);
  std::vector<const meta::IdentityRecord*> federated(std::string_view issuer,
                                                     const boost::json::object& claims) const;

 private:
  meta::IdentitySnapshot snapshot_;
  std::unordered_map<std::string_view, const meta::IdentityRecord*> by_name_;
  std::unordered_map<std::string_view, const meta::IdentityRecord*> by_id_;
  std::unordered_map<std::string_view, Grants> grants_;  // by id
  bool anonymous_pull_ = false;
  bool default_allow_ = true;
  CidrSet allowed_;
};

}  // namespace berth::auth
