#include "cli/auth_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cli/encoding.h"
#include "common/atomic_file.h"
#include "cli/output.h"

namespace berth::cli {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

Error ioError(std::string_view what, const std::string& path, int err) {
  return makeError(Code::kIoError, std::string(what) + " " + path + ": " + std::strerror(err));
}

// The spellings docker has used for one registry's key.
std::string spellings(std::string_view key, int i) {
  static constexpr std::string_view kPrefixes[] = {"", "https://", "http://"};
  return std::string(kPrefixes[i]) + std::string(key);
}

}  // namespace

Result<std::string> authFilePath(std::string_view flag, const char* env_auth_file, const char* home) {
  if (!flag.empty()) return std::string(flag);
  if (env_auth_file && *env_auth_file) return std::string(env_auth_file);
  if (home && *home) return (fs::path(home) / ".docker" / "config.json").string();
  return makeError(Code::kInvalidArgument, "no auth file: HOME is not set (give --authfile or set REGISTRY_AUTH_FILE)");
}

Result<AuthFile> AuthFile::load(std::string path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return AuthFile(std::move(path), json::object{});
    return ioError("cannot read", path, errno);
  }
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ioError("cannot read", path, err);
    }
    if (n == 0) break;
    text.append(buf, size_t(n));
  }
  ::close(fd);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return AuthFile(std::move(path), json::object{});
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec || !parsed.is_object()) {
    return makeError(Code::kInvalidArgument, path + " is not a JSON object; fix or move it (it was left as it is)");
  }
  const auto* auths = parsed.get_object().if_contains("auths");
  if (auths && !auths->is_object()) {
    return makeError(Code::kInvalidArgument, path + ": \"auths\" is not an object; fix or move the file (it was left as it is)");
  }
  return AuthFile(std::move(path), std::move(parsed.get_object()));
}

const json::object* AuthFile::entry(std::string_view key) const {
  const auto* auths = root_.if_contains("auths");
  if (!auths || !auths->is_object()) return nullptr;
  for (int i = 0; i < 3; ++i) {
    if (const auto* e = auths->get_object().if_contains(spellings(key, i)); e && e->is_object()) {
      return &e->get_object();
    }
  }
  return nullptr;
}

void AuthFile::setIdentityToken(std::string_view key, std::string_view token) {
  remove(key);
  auto& auths = root_["auths"];
  if (!auths.is_object()) auths = json::object{};
  json::object e;
  e["auth"] = base64Encode(std::string(kTokenUser) + ":");
  e["identitytoken"] = token;
  auths.get_object()[key] = std::move(e);
}

bool AuthFile::remove(std::string_view key) {
  auto* auths = root_.if_contains("auths");
  if (!auths || !auths->is_object()) return false;
  bool removed = false;
  for (int i = 0; i < 3; ++i) removed = auths->get_object().erase(spellings(key, i)) > 0 || removed;
  return removed;
}

std::optional<StoredCredentials> AuthFile::find(std::string_view key) const {
  const json::object* e = entry(key);
  if (!e) return std::nullopt;
  auto text = [e](std::string_view name) -> std::string {
    const auto* v = e->if_contains(name);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  if (auto token = text("identitytoken"); !token.empty()) return StoredCredentials{std::string(kTokenUser), token};
  if (auto auth = text("auth"); !auth.empty()) {
    auto decoded = base64Decode(auth);
    if (!decoded) return std::nullopt;
    auto colon = decoded->find(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    return StoredCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
  }
  if (auto user = text("username"); !user.empty()) return StoredCredentials{user, text("password")};
  return std::nullopt;
}

bool AuthFile::usesCredentialHelper(std::string_view key) const {
  if (const auto* store = root_.if_contains("credsStore"); store && store->is_string() && !store->get_string().empty()) {
    return true;
  }
  const auto* helpers = root_.if_contains("credHelpers");
  return helpers && helpers->is_object() && helpers->get_object().contains(key);
}

Status AuthFile::save() const {
  std::error_code ec;
  fs::path target(path_);
  if (fs::is_symlink(target, ec)) {
    auto resolved = fs::canonical(target, ec);
    if (!ec) target = resolved;
  }
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return makeError(Code::kIoError, "cannot create " + dir.string() + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, ec);
  }
  return writeFileAtomic(target.string(), prettyJson(root_, "\t"));
}

}  // namespace berth::cli
