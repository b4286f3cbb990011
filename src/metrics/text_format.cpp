#include "metrics/text_format.h"

#include <charconv>
#include <cmath>

namespace berth::metrics {

std::string formatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Whole numbers (byte counts) in full rather than as 7.4870480896e+10.
  const auto format = v == std::trunc(v) && std::fabs(v) < 0x1p53 ? std::chars_format::fixed : std::chars_format::general;
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, format);
  return std::string(buf, ec == std::errc() ? end : buf);
}

void appendEscapedLabelValue(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

void TextWriter::family(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) {
    if (c == '\\') out_ += "\\\\";
    else if (c == '\n') out_ += "\\n";
    else out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void TextWriter::labels(std::span<const Label> labels, const Label* extra) {
  if (labels.empty() && extra == nullptr) return;
  out_ += '{';
  bool first = true;
  auto one = [&](const Label& l) {
    if (!first) out_ += ',';
    first = false;
    out_ += l.first;
    out_ += "=\"";
    appendEscapedLabelValue(out_, l.second);
    out_ += '"';
  };
  for (const auto& l : labels) one(l);
  if (extra) one(*extra);
  out_ += '}';
}

void TextWriter::sample(std::string_view name, std::span<const Label> ls, double value, const Label* extra) {
  out_ += name;
  labels(ls, extra);
  out_ += ' ';
  out_ += formatDouble(value);
  out_ += '\n';
}

void TextWriter::sample(std::string_view name, std::span<const Label> ls, uint64_t value, const Label* extra) {
  out_ += name;
  labels(ls, extra);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void TextWriter::sample(std::string_view name, std::span<const Label> ls, int64_t value, const Label* extra) {
  out_ += name;
  labels(ls, extra);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

}  // namespace berth::metrics
