#include "cli/output.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <vector>

namespace berth::cli {
namespace {

namespace json = boost::json;

void appendIndent(std::string& out, std::string_view indent, int depth) {
  for (int i = 0; i < depth; ++i) out += indent;
}

void appendPretty(std::string& out, const json::value& v, std::string_view indent, int depth) {
  if (v.is_object()) {
    const auto& obj = v.get_object();
    if (obj.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    bool first = true;
    for (const auto& member : obj) {
      if (!first) out += ",\n";
      first = false;
      appendIndent(out, indent, depth + 1);
      out += json::serialize(json::string_view(member.key()));
      out += ": ";
      appendPretty(out, member.value(), indent, depth + 1);
    }
    out += '\n';
    appendIndent(out, indent, depth);
    out += '}';
  } else if (v.is_array()) {
    const auto& arr = v.get_array();
    if (arr.empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t i = 0; i < arr.size(); ++i) {
      if (i > 0) out += ",\n";
      appendIndent(out, indent, depth + 1);
      appendPretty(out, arr[i], indent, depth + 1);
    }
    out += '\n';
    appendIndent(out, indent, depth);
    out += ']';
  } else {
    out += json::serialize(v);
  }
}

std::string cellText(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_null()) return "";
  if (v.is_array()) {
    const auto& arr = v.get_array();
    if (std::all_of(arr.begin(), arr.end(), [](const json::value& e) { return e.is_string(); })) {
      std::string joined;
      for (const auto& e : arr) {
        if (!joined.empty()) joined += ',';
        joined += e.get_string();
      }
      return joined;
    }
  }
  return json::serialize(v);
}

std::string renderRows(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size()) text.append(width[c] - cells[c].size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + "\n";
  };
  line(header);
  std::vector<std::string> rule;
  for (size_t w : width) rule.emplace_back(w, '-');
  line(rule);
  for (const auto& row : rows) line(row);
  return out;
}

const json::array* listOf(const json::value& v) {
  if (v.is_array()) return &v.get_array();
  if (!v.is_object()) return nullptr;
  const json::array* found = nullptr;
  for (const auto& member : v.get_object()) {
    if (!member.value().is_array()) continue;
    if (found) return nullptr;  // two arrays: not a list answer
    found = &member.value().get_array();
  }
  // {"defaultAction":..., "ipRules":[...]} is a resource with a list inside, not a list.
  return v.get_object().size() == 1 ? found : nullptr;
}

}  // namespace

std::string prettyJson(const json::value& value, std::string_view indent) {
  std::string out;
  appendPretty(out, value, indent, 0);
  out += '\n';
  return out;
}

std::string tableText(const json::value& value) {
  if (const json::array* list = listOf(value)) {
    std::vector<std::string> header;
    for (const auto& element : *list) {
      if (!element.is_object()) continue;
      for (const auto& member : element.get_object()) {
        std::string key(member.key());
        if (std::find(header.begin(), header.end(), key) == header.end()) header.push_back(key);
      }
    }
    if (header.empty()) {
      std::string out;
      for (const auto& element : *list) out += cellText(element) + "\n";
      return out;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& element : *list) {
      std::vector<std::string> row(header.size());
      if (element.is_object()) {
        for (size_t c = 0; c < header.size(); ++c) {
          if (const auto* cell = element.get_object().if_contains(header[c])) row[c] = cellText(*cell);
        }
      }
      rows.push_back(std::move(row));
    }
    return renderRows(header, rows);
  }
  if (value.is_object()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& member : value.get_object()) {
      rows.push_back({std::string(member.key()), cellText(member.value())});
    }
    return renderRows({"NAME", "VALUE"}, rows);
  }
  return cellText(value) + "\n";
}

uint64_t jsonNumber(const boost::json::value& v, std::string_view key) {
  const boost::json::value* f = v.is_object() ? v.get_object().if_contains(key) : nullptr;
  if (f == nullptr) return 0;
  if (f->is_uint64()) return f->get_uint64();
  if (f->is_int64() && f->get_int64() > 0) return static_cast<uint64_t>(f->get_int64());
  return 0;
}

std::string jsonText(const boost::json::value& v, std::string_view key) {
  const boost::json::value* f = v.is_object() ? v.get_object().if_contains(key) : nullptr;
  return f != nullptr && f->is_string() ? std::string(f->get_string()) : "-";
}

}  // namespace berth::cli
