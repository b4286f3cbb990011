#pragma once
// Writer for the Prometheus text exposition format 0.0.4: HELP and TYPE lines, samples
// with escaped label values, numbers as Go's ParseFloat reads them (+Inf, -Inf, NaN).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace berth::metrics {

inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

using Label = std::pair<std::string_view, std::string_view>;  // name, value

class TextWriter {
 public:
  explicit TextWriter(std::string& out) : out_(out) {}

  // "# HELP name help" ('\\' and newline escaped) and "# TYPE name type".
  void family(std::string_view name, std::string_view help, std::string_view type);
  // name{labels} value. `extra` is one more label after `labels` (a histogram's "le").
  void sample(std::string_view name, std::span<const Label> labels, double value, const Label* extra = nullptr);
  void sample(std::string_view name, std::span<const Label> labels, uint64_t value, const Label* extra = nullptr);
  void sample(std::string_view name, std::span<const Label> labels, int64_t value, const Label* extra = nullptr);

 private:
  void labels(std::span<const Label> labels, const Label* extra);
  std::string& out_;
};

// Shortest text that reads back as `v`: "0.0001", "2.5", "10", "74870480896", "+Inf", "NaN".
std::string formatDouble(double v);
// A label value with '\\', '"' and newline escaped.
void appendEscapedLabelValue(std::string& out, std::string_view value);

}  // namespace berth::metrics
