#include "common/log.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

namespace berth::log {
namespace {

using namespace std::string_view_literals;

// The writer wakes early once this much is waiting.
constexpr size_t kBatchBytes = 64 * 1024;
// Beyond this much waiting (stderr slower than the log), the logging thread writes the
// backlog itself: the log slows the server down rather than losing lines.
constexpr size_t kMaxPending = 8 * 1024 * 1024;
// How long the writer lets lines gather after the first one arrives; the most a line
// below warn waits before it is written.
constexpr auto kBatchWindow = std::chrono::milliseconds(5);
// A batch buffer larger than this is freed after its write rather than kept for reuse.
constexpr size_t kKeepCapacity = 1024 * 1024;

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

void writeAll(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // stderr is gone: nothing better to do with the line
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// The ordered line buffer and its writer thread. Writes happen under write_mu_ and take
// what is pending under mu_ while holding it, so batches reach stderr in the order their
// lines were submitted, whoever writes them.
class Sink {
 public:
  void start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (async_) return;
    async_ = true;
    std::thread([this] { run(); }).detach();  // lives as long as the process
    std::atexit([] { instance().writePending(); });
  }

  void submit(std::string_view line, bool urgent) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!async_) {
      lock.unlock();
      std::lock_guard<std::mutex> writing(write_mu_);
      writeAll(line);
      return;
    }
    if (pending_.size() + line.size() > kMaxPending) {
      lock.unlock();
      writePending();
      lock.lock();
    }
    const bool was_empty = pending_.empty();
    pending_.append(line);
    urgent_ = urgent_ || urgent;
    const bool wake = (writer_idle_ && was_empty) ||
                      (writer_gathering_ && (urgent || pending_.size() >= kBatchBytes));
    lock.unlock();
    if (wake) cv_.notify_one();
  }

  // Writes everything submitted before the call.
  void writePending() {
    std::lock_guard<std::mutex> writing(write_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      batch_.swap(pending_);
      urgent_ = false;
    }
    writeAll(batch_);
    batch_.clear();
    if (batch_.capacity() > kKeepCapacity) std::string().swap(batch_);
  }

  static Sink& instance() {
    static Sink* sink = new Sink;  // never destroyed: the detached writer and atexit use it
    return *sink;
  }

 private:
  void run() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        writer_idle_ = true;
        cv_.wait(lock, [this] { return !pending_.empty(); });
        writer_idle_ = false;
        writer_gathering_ = true;
        cv_.wait_for(lock, kBatchWindow, [this] { return urgent_ || pending_.size() >= kBatchBytes; });
        writer_gathering_ = false;
      }
      writePending();
    }
  }

  std::mutex write_mu_;  // one writer of stderr at a time; guards batch_
  std::string batch_;
  std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  std::string pending_;
  bool async_ = false;
  bool urgent_ = false;
  bool writer_idle_ = false;       // waiting for a first line
  bool writer_gathering_ = false;  // waiting for the batch window to end
};

std::string_view levelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

// "2026-11-22T10:00:00.123Z" (UTC); the part up to the seconds is formatted once a second
// per thread.
void appendTime(std::string& out) {
  const auto ms_total = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const int64_t secs = ms_total / 1000;
  const int ms = static_cast<int>(ms_total % 1000);
  thread_local int64_t cached_secs = -1;
  thread_local char cached[32];
  thread_local size_t cached_len = 0;
  if (secs != cached_secs) {
    const time_t t = static_cast<time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    cached_len = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_secs = secs;
  }
  out.append(cached, cached_len);
  const char frac[6] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                        static_cast<char>('0' + ms % 10), 'Z', '\0'};
  out.append(frac, 5);
}

// A JSON string exactly as boost::json::serialize writes it: '"' and '\\' escaped, control
// characters as \b \t \n \f \r or \u00xx, everything else (UTF-8 included) as is.
constexpr std::array<bool, 256> makeEscapeTable() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = t['\\'] = true;
  return t;
}
constexpr auto kNeedsEscape = makeEscapeTable();

// Whether any of the 8 bytes in `x` needs escaping: below 0x20, '"' or '\\' (the usual
// "has a byte less than n" and "has a zero byte" bit tricks).
bool anyNeedsEscape(uint64_t x) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;
  const auto hasZero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  return ((x - kOnes * 0x20) & ~x & kHigh) != 0 || hasZero(x ^ (kOnes * '"')) != 0 ||
         hasZero(x ^ (kOnes * '\\')) != 0;
}

void appendQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t start = 0;  // the first byte not appended yet
  // Skip 8 bytes at a time while none needs escaping (almost always: paths, addresses).
  size_t clean = 0;
  while (clean + 8 <= s.size()) {
    uint64_t x;
    std::memcpy(&x, s.data() + clean, 8);
    if (anyNeedsEscape(x)) break;
    clean += 8;
  }
  for (size_t i = clean; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!kNeedsEscape[c]) continue;
    out.append(s.data() + start, i - start);
    start = i + 1;
    switch (c) {
      case '"': out += "\\\""sv; break;
      case '\\': out += "\\\\"sv; break;
      case '\b': out += "\\b"sv; break;
      case '\t': out += "\\t"sv; break;
      case '\n': out += "\\n"sv; break;
      case '\f': out += "\\f"sv; break;
      case '\r': out += "\\r"sv; break;
      default: {
        const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.append(u, 6);
      }
    }
  }
  out.append(s.data() + start, s.size() - start);
  out += '"';
}

template <class T>
void appendNumber(std::string& out, T value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

void beginLine(std::string& out, Level level, std::string_view msg) {
  out += "{\"time\":\""sv;
  appendTime(out);
  out += "\",\"level\":\""sv;
  out += levelName(level);
  out += "\",\"msg\":"sv;
  appendQuoted(out, msg);
}

// Keys are names fixed in the code ("status", "bytes_out"): nothing to escape.
void appendKey(std::string& out, std::string_view key) {
  out += ",\""sv;
  out += key;
  out += "\":"sv;
}

void appendValue(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string: appendQuoted(out, v.get_string()); break;
    case boost::json::kind::int64: appendNumber(out, v.get_int64()); break;
    case boost::json::kind::uint64: appendNumber(out, v.get_uint64()); break;
    default: out += boost::json::serialize(v);
  }
}

// Each thread's line buffer, lent to one Line at a time (a Line built while another is
// being built on the same thread gets a fresh one).
thread_local std::string t_line;

}  // namespace

void init(Level min_level, bool async) {
  g_min_level = static_cast<int>(min_level);
  if (async) Sink::instance().start();
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
  Line line(level, msg);
  if (!line.active()) return;
  for (const auto& [k, v] : fields) line.value(k, v);
}

void flush() { Sink::instance().writePending(); }

Line::Line(Level level, std::string_view msg) : level_(level), active_(enabled(level)) {
  if (!active_) return;
  buf_.swap(t_line);
  buf_.clear();
  beginLine(buf_, level, msg);
}

Line::~Line() {
  if (!active_) return;
  try {
    buf_ += "}\n"sv;
    Sink::instance().submit(buf_, level_ >= Level::kWarn);
  } catch (...) {  // out of memory: the line is lost, the caller is not
  }
  buf_.swap(t_line);
}

Line& Line::str(std::string_view key, std::string_view value) {
  if (active_) {
    appendKey(buf_, key);
    appendQuoted(buf_, value);
  }
  return *this;
}

Line& Line::value(std::string_view key, const boost::json::value& value) {
  if (active_) {
    appendKey(buf_, key);
    appendValue(buf_, value);
  }
  return *this;
}

Line& Line::signedNum(std::string_view key, int64_t value) {
  if (active_) {
    appendKey(buf_, key);
    appendNumber(buf_, value);
  }
  return *this;
}

Line& Line::unsignedNum(std::string_view key, uint64_t value) {
  if (active_) {
    appendKey(buf_, key);
    appendNumber(buf_, value);
  }
  return *this;
}

}  // namespace berth::log
