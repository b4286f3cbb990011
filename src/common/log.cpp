#include "common/log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <ctime>

namespace berth::log {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
std::shared_ptr<spdlog::logger> g_logger;

std::shared_ptr<spdlog::logger> logger() {
  if (!g_logger) {
    g_logger = spdlog::stderr_logger_mt("berth");
    g_logger->set_pattern("%v");
  }
  return g_logger;
}

std::string_view levelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

void appendTime(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  n += std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  out.append(buf, n);
}

}  // namespace

void init(Level min_level, bool async) {
  g_min_level = static_cast<int>(min_level);
  spdlog::drop("berth");
  if (async) {
    spdlog::init_thread_pool(16384, 1);
    g_logger = spdlog::create_async_nb<spdlog::sinks::stderr_sink_mt>("berth");
  } else {
    g_logger = spdlog::stderr_logger_mt("berth");
  }
  g_logger->set_pattern("%v");
  g_logger->flush_on(spdlog::level::warn);
}

Level parseLevel(std::string_view name, bool* ok) {
  *ok = true;
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn") return Level::kWarn;
  if (name == "error") return Level::kError;
  *ok = false;
  return Level::kInfo;
}

bool enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed); }

void write(Level level, std::string_view msg, boost::json::object fields) {
  if (!enabled(level)) return;
  std::string line;
  line.reserve(160);
  line += "{\"time\":\"";
  appendTime(line);
  line += "\",\"level\":\"";
  line += levelName(level);
  line += "\",\"msg\":";
  line += boost::json::serialize(boost::json::value(msg));
  for (auto& [k, v] : fields) {
    line += ',';
    line += boost::json::serialize(boost::json::value(k));
    line += ':';
    line += boost::json::serialize(v);
  }
  line += '}';
  logger()->info(line);
}

void flush() { logger()->flush(); }

}  // namespace berth::log
