#include "auth/jwks_source.h"

#include "common/log.h"

namespace berth::auth {

JwksSource::JwksSource(std::string url, Fetch fetch, KeySet keys)
    : url_(std::move(url)), fetch_(std::move(fetch)), keys_(std::make_shared<const KeySet>(std::move(keys))) {}

std::shared_ptr<JwksSource> JwksSource::fixed(KeySet keys) {
  return std::shared_ptr<JwksSource>(new JwksSource({}, {}, std::move(keys)));
}

std::shared_ptr<JwksSource> JwksSource::remote(std::string url, Fetch fetch) {
  return std::shared_ptr<JwksSource>(new JwksSource(std::move(url), std::move(fetch), KeySet{}));
}

Status JwksSource::refresh(int64_t now) {
  if (!isRemote()) return okStatus();
  std::lock_guard<std::mutex> lock(refresh_mu_);
  attempted_at_ = now;
  auto body = fetch_(url_);
  if (!body) {
    log::warn("cannot fetch OIDC keys", {{"url", url_}, {"error", body.error().message}});
    return body.takeError();
  }
  KeySet next;
  auto added = next.addJwks(*body);
  if (!added || *added == 0) {
    std::string why = added ? "no usable signing key" : added.error().message;
    log::warn("OIDC keys unusable", {{"url", url_}, {"error", why}});
    return makeError(Code::kInvalidArgument, url_ + ": " + why);
  }
  std::atomic_store(&keys_, std::make_shared<const KeySet>(std::move(next)));
  fetched_at_ = now;
  log::info("OIDC keys fetched", {{"url", url_}, {"keys", *added}});
  return okStatus();
}

bool JwksSource::refreshIfStale(int64_t now, int64_t max_age, int64_t min_gap) {
  if (!isRemote()) return false;
  {
    std::lock_guard<std::mutex> lock(refresh_mu_);
    const bool stale = fetched_at_ == 0 || now - fetched_at_ >= max_age;
    if (!stale || (attempted_at_ != 0 && now - attempted_at_ < min_gap)) return false;
  }
  return refresh(now).ok();
}

}  // namespace berth::auth
