#include "common/text.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <utility>

namespace berth {

std::string quoteUntrusted(std::string_view text, size_t max) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < max; ++i) {
    char c = text[i];
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (text.size() > max) out += "...";
  out += '"';
  return out;
}

std::string_view trimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string newUuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) std::abort();  // no entropy: nothing safe to do
  b[6] = (b[6] & 0x0f) | 0x40;  // UUID version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id.push_back('-');
    id.push_back(kHex[b[i] >> 4]);
    id.push_back(kHex[b[i] & 15]);
  }
  return id;
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string formatRfc3339(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

namespace {

// True iff text[pos, pos + n) are all ASCII digits. sscanf's %d alone would also take
// signs, spaces and shorter fields ("T-1:00:00Z").
bool digitsAt(std::string_view text, size_t pos, size_t n) {
  if (text.size() < pos + n) return false;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

int daysInMonth(int y, int mo) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return mo == 2 && leap ? 29 : kDays[mo - 1];
}

}  // namespace

std::optional<int64_t> parseRfc3339(std::string_view text) {
  int y, mo, d, h, mi, s;
  std::string str(text.substr(0, 64));
  int consumed = 0;
  if (!digitsAt(str, 0, 4) || !digitsAt(str, 5, 2) || !digitsAt(str, 8, 2) ||
      !digitsAt(str, 11, 2) || !digitsAt(str, 14, 2) || !digitsAt(str, 17, 2)) {
    return std::nullopt;
  }
  if (std::sscanf(str.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
                  &consumed) != 6) {
    return std::nullopt;
  }
  std::string_view rest = std::string_view(str).substr(consumed);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    if (!digitsAt(rest, 0, 1)) return std::nullopt;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
  }
  int64_t offset = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':' &&
             digitsAt(rest, 1, 2) && digitsAt(rest, 4, 2)) {
    int oh = 0, om = 0;
    std::string o(rest);
    if (std::sscanf(o.c_str() + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59) return std::nullopt;
    offset = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 60 ||
      y < 1970) {
    return std::nullopt;
  }
  tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = s;
  return static_cast<int64_t>(timegm(&t)) - offset;
}

std::optional<int64_t> parseDuration(std::string_view text) {
  constexpr int64_t kMax = 10LL * 365 * 24 * 3600;
  if (text.empty()) return std::nullopt;
  const auto digits = [](std::string_view t, size_t& i, int64_t& v) {
    const size_t start = i;
    v = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (v > kMax) return false;
      v = v * 10 + (t[i++] - '0');
    }
    return i > start;
  };
  size_t i = 0;
  int64_t v = 0;
  if (!digits(text, i, v)) return std::nullopt;
  if (i == text.size()) return v <= kMax ? std::optional<int64_t>(v) : std::nullopt;  // bare seconds
  int64_t total = 0;
  int64_t previous_unit = 0;
  for (;;) {
    int64_t unit = 0;
    switch (text[i]) {
      case 'd': unit = 86400; break;
      case 'h': unit = 3600; break;
      case 'm': unit = 60; break;
      case 's': unit = 1; break;
      default: return std::nullopt;
    }
    if (previous_unit != 0 && unit >= previous_unit) return std::nullopt;  // largest first, once each
    previous_unit = unit;
    if (v > kMax / unit) return std::nullopt;
    total += v * unit;
    if (total > kMax) return std::nullopt;
    if (++i == text.size()) return total;
    if (!digits(text, i, v) || i == text.size()) return std::nullopt;
  }
}

std::string formatDuration(int64_t seconds) {
  if (seconds <= 0) return "0s";
  std::string out;
  constexpr std::pair<int64_t, char> kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (const auto& [unit, name] : kUnits) {
    if (seconds >= unit) {
      out += std::to_string(seconds / unit);
      out += name;
      seconds %= unit;
    }
  }
  return out;
}

}  // namespace berth
