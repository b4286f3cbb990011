#include "common/text.h"

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

}  // namespace berth
