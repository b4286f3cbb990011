#pragma once
// Structured logging: one JSON object per line on stderr, with fixed message strings and
// typed fields. Never pass a secret as a field.
//
// Lines are formatted on the calling thread and appended, in order, to one buffer that a
// writer thread hands to stderr in batches (init with async = true): a busy server makes a
// write(2) per batch, not per line. Lines of level warn and above wake the writer at once.
// Nothing is dropped: past kMaxPending bytes the caller writes the backlog itself.
// flush() (and process exit) writes everything buffered before it returns.
#include <boost/json/object.hpp>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace berth::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Configures the process-wide logger. Safe to call once at start-up. `async` false: every
// line is written before the call that logs it returns.
void init(Level min_level, bool async);
Level parseLevel(std::string_view name, bool* ok);
bool enabled(Level level);
void write(Level level, std::string_view msg, boost::json::object fields = {});
void flush();

inline void debug(std::string_view m, boost::json::object f = {}) { write(Level::kDebug, m, std::move(f)); }
inline void info(std::string_view m, boost::json::object f = {}) { write(Level::kInfo, m, std::move(f)); }
inline void warn(std::string_view m, boost::json::object f = {}) { write(Level::kWarn, m, std::move(f)); }
inline void error(std::string_view m, boost::json::object f = {}) { write(Level::kError, m, std::move(f)); }

// A log line built field by field, for hot paths (the access log): the same JSON as
// write() produces, without a JSON DOM and, once the thread's buffer has grown, without
// allocating. Written when it goes out of scope (nothing if the level is not enabled).
//   log::Line(log::Level::kInfo, "request").str("method", m).num("status", 200);
class Line {
 public:
  Line(Level level, std::string_view msg);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  bool active() const { return active_; }
  Line& str(std::string_view key, std::string_view value);
  Line& value(std::string_view key, const boost::json::value& value);
  template <std::integral T>
  Line& num(std::string_view key, T value) {
    if constexpr (std::is_signed_v<T>) {
      return signedNum(key, value);
    } else {
      return unsignedNum(key, value);
    }
  }

 private:
  Line& signedNum(std::string_view key, int64_t value);
  Line& unsignedNum(std::string_view key, uint64_t value);

  Level level_;
  bool active_;
  std::string buf_;  // the thread's buffer while this line is built
};

}  // namespace berth::log
