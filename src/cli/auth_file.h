#pragma once
// The docker-style auth file that `berth login` writes and every command reads:
//   {"auths": {"registry.example.com": {"auth": "<base64 user:password>",
//                                       "identitytoken": "<refresh token>"}}}
// docker, podman, skopeo and buildah read the same file (~/.docker/config.json), so a
// `berth login` serves them too. Members Berth does not know are kept as they are.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace berth::cli {

// The user name that stands for "the password is a refresh token" (ACR's convention).
inline constexpr std::string_view kTokenUser = "00000000-0000-0000-0000-000000000000";

struct StoredCredentials {
  std::string username;  // kTokenUser when `secret` is an identity token
  std::string secret;
};

// --authfile if given, else $REGISTRY_AUTH_FILE, else $HOME/.docker/config.json.
// kInvalidArgument if none of them is set (no HOME).
Result<std::string> authFilePath(std::string_view flag, const char* env_auth_file, const char* home);

class AuthFile {
 public:
  // A missing file is an empty one. kInvalidArgument if the file is not a JSON object
  // or its "auths" is not an object (it is then left alone); kIoError if unreadable.
  static Result<AuthFile> load(std::string path);

  const std::string& path() const { return path_; }
  const boost::json::object& json() const { return root_; }

  // Replaces the entry for `key` with {"auth": base64(kTokenUser ":"), "identitytoken": token}.
  void setIdentityToken(std::string_view key, std::string_view token);
  // Removes the entry for `key` and its "https://key" / "http://key" spellings (older
  // docker versions wrote those). False if there was none.
  bool remove(std::string_view key);
  // The credentials stored for `key` (or its scheme-prefixed spellings): the identity
  // token if there is one, else the user and password of "auth" (or of "username" and
  // "password"). nullopt if none or undecodable.
  std::optional<StoredCredentials> find(std::string_view key) const;
  // True if docker would ask a credential helper for `key` instead of reading "auths"
  // ("credsStore" set, or "credHelpers" naming the key).
  bool usesCredentialHelper(std::string_view key) const;

  // Writes the file atomically: a temporary file in the same directory, created 0600,
  // written, fsynced, then renamed over the file. Creates missing parent directories
  // (0700). A symlinked file is replaced at its target.
  Status save() const;

 private:
  AuthFile(std::string path, boost::json::object root) : path_(std::move(path)), root_(std::move(root)) {}
  const boost::json::object* entry(std::string_view key) const;

  std::string path_;
  boost::json::object root_;
};

}  // namespace berth::cli
