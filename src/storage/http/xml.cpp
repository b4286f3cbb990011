#include "storage/http/xml.h"

namespace berth::storage::http {
namespace {

std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    auto amp = text.find('&');
    out.append(text.substr(0, amp));
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp);
    auto semi = text.find(';');
    std::string_view entity = text.substr(0, semi == std::string_view::npos ? text.size() : semi + 1);
    if (entity == "&amp;") out.push_back('&');
    else if (entity == "&lt;") out.push_back('<');
    else if (entity == "&gt;") out.push_back('>');
    else if (entity == "&quot;") out.push_back('"');
    else if (entity == "&apos;") out.push_back('\'');
    else out.append(entity);
    text.remove_prefix(entity.size());
  }
  return out;
}

}  // namespace

std::vector<std::string_view> xmlElements(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(name);
  const std::string close = "</" + std::string(name) + ">";
  size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t after = pos + open.size();
    if (after >= xml.size()) break;
    char c = xml[after];
    if (c != '>' && c != ' ' && c != '/') {  // a longer name with this prefix
      pos = after;
      continue;
    }
    size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {  // <name/>
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

std::string xmlText(std::string_view xml, std::string_view name) {
  auto all = xmlElements(xml, name);
  return all.empty() ? std::string() : unescape(all.front());
}

std::string xmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace berth::storage::http
