#pragma once
// Structured logging: one JSON object per line on stderr, with fixed message strings and
// typed fields. Never pass a secret as a field.
#include <boost/json/object.hpp>
#include <string_view>

namespace berth::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Configures the process-wide logger. Safe to call once at start-up.
void init(Level min_level, bool async);
Level parseLevel(std::string_view name, bool* ok);
bool enabled(Level level);
void write(Level level, std::string_view msg, boost::json::object fields = {});
void flush();

inline void debug(std::string_view m, boost::json::object f = {}) { write(Level::kDebug, m, std::move(f)); }
inline void info(std::string_view m, boost::json::object f = {}) { write(Level::kInfo, m, std::move(f)); }
inline void warn(std::string_view m, boost::json::object f = {}) { write(Level::kWarn, m, std::move(f)); }
inline void error(std::string_view m, boost::json::object f = {}) { write(Level::kError, m, std::move(f)); }

}  // namespace berth::log
